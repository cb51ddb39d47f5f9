import { DEFAULT_AUTH_METHOD, lookupAuthMethod, type AuthMethod } from './auth-methods.js';
import { OPTIONS, lookupOption, suggestOption, type OptionDef } from './catalogue.js';
import type {
  ClientCredentialsMode,
  DsnConfig,
  OutboundProxy,
  RawDsn,
  TokenEndpoint,
  TokenParams,
  TokenPlacement,
  ValueOrigin,
} from './dsn.js';
import { parsePagingOption, type PagingSettings } from './paging-option.js';
import { UNSAFE_VALUE_CHARS, type ConfigProblem } from './problems.js';

/** One raw key/value as read from a file or a connection string. */
export interface RawEntry {
  readonly key: string;
  readonly value: string;
  readonly origin: ValueOrigin;
}

const GRANT_BY_METHOD: Readonly<Record<number, string>> = {
  51: 'authorization_code',
  52: 'password',
  53: 'client_credentials',
  54: 'refresh_token',
  55: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
  56: 'refresh_token',
};

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Folds raw entries into a RawDsn keyed by canonical option name. Unknown keys warn (with a
 * suggestion); a key given twice, or under its long and short names, is refused: DataDirect warns
 * that "the connection may fail", and silently picking one hides a typo.
 */
export function collectDsn(
  name: string,
  source: string,
  line: number | undefined,
  entries: readonly RawEntry[],
  problems: ConfigProblem[],
): RawDsn {
  const values = new Map<string, { value: string; origin: ValueOrigin }>();
  for (const e of entries) {
    const def = lookupOption(e.key);
    const at = { source: e.origin.source, line: e.origin.line, dsn: name, key: e.key };
    if (!def) {
      const suggestion = suggestOption(e.key);
      problems.push({
        severity: 'warning',
        ...at,
        message: `unknown option "${e.key}" is ignored`,
        fix: suggestion ? `did you mean ${suggestion}?` : 'see the option table in the README',
      });
      continue;
    }
    const previous = values.get(def.name);
    if (previous) {
      const prevAt = previous.origin.line === undefined ? '' : ` (line ${previous.origin.line})`;
      problems.push({
        severity: 'error',
        ...at,
        message: `${def.name} is set twice: as ${previous.origin.key}${prevAt} and as ${e.key}`,
        fix: 'keep one of them',
      });
      continue;
    }
    values.set(def.name, { value: e.value, origin: e.origin });
  }
  return { name, source, ...(line === undefined ? {} : { line }), values };
}

/**
 * Validates a RawDsn into a DsnConfig, pushing every problem found. Returns undefined when an
 * error makes the DSN unusable (the problems say why).
 */
export function resolveDsn(raw: RawDsn, problems: ConfigProblem[]): DsnConfig | undefined {
  const errorsBefore = problems.filter((p) => p.severity === 'error').length;
  const origins = new Map<string, ValueOrigin>();
  for (const [k, v] of raw.values) origins.set(k, v.origin);

  const report = (
    severity: 'error' | 'warning',
    option: string | undefined,
    message: string,
    fix?: string,
  ): void => {
    const origin = option === undefined ? undefined : origins.get(option);
    problems.push({
      severity,
      source: origin?.source ?? raw.source,
      ...(origin?.line !== undefined
        ? { line: origin.line }
        : raw.line !== undefined
          ? { line: raw.line }
          : {}),
      dsn: raw.name,
      ...(option === undefined ? {} : { key: origin?.key ?? option }),
      message,
      ...(fix === undefined ? {} : { fix }),
    });
  };

  if (raw.values.size === 0) {
    report(
      'error',
      undefined,
      'this DSN has no options',
      'add AuthenticationMethod, HostName and the options its method needs, or remove the section',
    );
    return undefined;
  }

  const str = (name: string): string | undefined => {
    const v = raw.values.get(name)?.value;
    return v === undefined || v === '' ? undefined : v;
  };
  const def = (name: string): OptionDef => lookupOption(name)!;
  const valueOrDefault = (name: string): string | undefined => str(name) ?? def(name).default;

  for (const [name, { value }] of raw.values) {
    if (UNSAFE_VALUE_CHARS.test(value)) {
      report(
        'error',
        name,
        'the value contains a line break or NUL character, which would end up in an HTTP header',
        'remove the control character',
      );
    }
  }

  const int = (name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const v = valueOrDefault(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) {
      report(
        'error',
        name,
        `${name}=${v} is not a whole number${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ''}`,
        `write a number, e.g. ${name}=${def(name).default ?? min}`,
      );
      return undefined;
    }
    return Number(v);
  };
  const bool = (name: string): boolean => {
    const v = (valueOrDefault(name) ?? '0').trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    report('error', name, `${name}=${v} is not a yes/no value`, `write ${name}=1 or ${name}=0`);
    return false;
  };

  // AuthenticationMethod
  let method: AuthMethod = DEFAULT_AUTH_METHOD;
  const amText = str('AuthenticationMethod');
  if (amText !== undefined) {
    const found = lookupAuthMethod(amText);
    if (!found) {
      report(
        'error',
        'AuthenticationMethod',
        `AuthenticationMethod=${amText} is not a DataDirect authentication method`,
        'use a number or name such as 54 (OAuth2-RefreshToken), 53 (OAuth2-ClientCredentials), 34 (BearerToken) or 15 (None)',
      );
      return undefined;
    }
    method = found;
  }
  if (method.kind === 'unsupported') {
    report(
      'error',
      'AuthenticationMethod',
      `AuthenticationMethod=${method.code} (${method.name}) is not supported by tokenshim yet`,
      'use an OAuth2 method (50-56), BearerToken (34), HttpHeader (25), UrlParameter (14), Basic (0) or None (15)',
    );
    return undefined;
  }

  const effectiveMethod = method.code === 24 ? legacyGrant(raw) : method;
  for (const o of OPTIONS) {
    if (o.requiredBy?.includes(effectiveMethod.code) && str(o.name) === undefined) {
      report(
        'error',
        undefined,
        `${o.name} is missing; AuthenticationMethod=${effectiveMethod.code} (${effectiveMethod.name}) needs it`,
        `add ${o.name}=... to [${raw.name}]`,
      );
    }
  }
  if (effectiveMethod.code === 54 && str('RefreshToken') === undefined) {
    report(
      'warning',
      undefined,
      'RefreshToken is not set: tokenshim will use one from the token store if `tokenshim login` saved one',
      `run \`tokenshim login ${raw.name}\`, or add RefreshToken=... to [${raw.name}]`,
    );
  }
  if (
    effectiveMethod.code === 51 &&
    str('OAuthCode') === undefined &&
    str('RefreshToken') === undefined
  ) {
    report(
      'warning',
      undefined,
      'neither OAuthCode nor RefreshToken is set',
      `run \`tokenshim login ${raw.name}\`, or add OAuthCode=... to [${raw.name}]`,
    );
  }

  // TokenURI: DataDirect sends GET unless the value starts with "POST ".
  let tokenEndpoint: TokenEndpoint | undefined;
  const tokenUriText = str('TokenURI');
  if (tokenUriText !== undefined) {
    const m = /^([A-Za-z]+)\s+(\S.*)$/.exec(tokenUriText.trim());
    let verb = 'GET';
    let urlText = tokenUriText.trim();
    if (m && !/^[a-z][a-z0-9+.-]*:/i.test(tokenUriText.trim())) {
      verb = m[1]!.toUpperCase();
      urlText = m[2]!.trim();
    }
    if (verb !== 'GET' && verb !== 'POST') {
      report(
        'error',
        'TokenURI',
        `TokenURI starts with "${m![1]}", but a token request can only be GET or POST`,
        'write TokenURI=POST https://... (or no prefix for GET)',
      );
    } else {
      const url = parseHttpUrl(urlText);
      if (!url) {
        report(
          'error',
          'TokenURI',
          `TokenURI "${urlText}" is not an http:// or https:// URL`,
          'write the token endpoint as a full URL, e.g. TokenURI=POST https://login.example.com/oauth/token',
        );
      } else {
        tokenEndpoint = { method: verb, url };
      }
    }
  }

  const mode = int('ClientCredentialsMode', 0, 3);
  const clientCredentialsMode = (mode ?? 0) as ClientCredentialsMode;

  // HostName: a URL, or a bare host (https unless PortNumber=80). Without it, RestSamplePath's origin.
  const portNumber = int('PortNumber', 1, 65535);
  let upstream: URL | undefined;
  const hostText = str('HostName');
  if (hostText !== undefined) {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(hostText)
      ? hostText
      : `${portNumber === 80 ? 'http' : 'https'}://${hostText}`;
    upstream = parseHttpUrl(withScheme);
    if (!upstream) {
      report(
        'error',
        'HostName',
        `HostName "${hostText}" is not an http(s) URL or host name`,
        'write the upstream base URL, e.g. HostName=https://api.example.com/rest/v1',
      );
    } else if (
      portNumber !== undefined &&
      upstream.port === '' &&
      str('PortNumber') !== undefined
    ) {
      upstream.port = String(portNumber);
    }
  } else {
    const sample = str('RestSamplePath');
    const sampleUrl =
      sample === undefined ? undefined : parseHttpUrl(sample.replace(/^'(.*)'$/, '$1'));
    if (sampleUrl) upstream = new URL(sampleUrl.origin);
  }
  if (upstream) {
    upstream.pathname = upstream.pathname.replace(/\/+$/, '');
    upstream.search = '';
    upstream.hash = '';
  } else if (hostText === undefined) {
    report(
      'error',
      'HostName',
      'HostName is missing, so tokenshim does not know where to forward requests',
      `add HostName=https://api.example.com to [${raw.name}]`,
    );
  }

  const authHeader = str('AuthHeader');
  if (authHeader !== undefined && !HEADER_NAME.test(authHeader)) {
    report(
      'error',
      'AuthHeader',
      `AuthHeader "${authHeader}" is not a valid HTTP header name`,
      'use letters, digits and -',
    );
  }
  if (method.kind === 'oauth' && authHeader !== undefined && str('SecurityToken') === undefined) {
    report(
      'error',
      'AuthHeader',
      'AuthHeader is set but SecurityToken is empty: in OAuth modes they add one extra header together',
      'set SecurityToken=..., or remove AuthHeader',
    );
  }

  const formatText = (valueOrDefault('TokenRequestFormat') ?? 'form').toLowerCase();
  if (formatText !== 'form' && formatText !== 'json' && formatText !== 'query') {
    report(
      'error',
      'TokenRequestFormat',
      `TokenRequestFormat=${formatText} is not form, json or query`,
      'write form (RFC 6749 bodies), json, or query (parameters in the URL, as Zoho wants)',
    );
  }

  let tokenParams: TokenParams | undefined;
  const paramsText = str('TokenParams');
  if (paramsText !== undefined) {
    if (paramsText.trim().startsWith('{')) {
      try {
        const object = JSON.parse(paramsText) as unknown;
        if (typeof object !== 'object' || object === null || Array.isArray(object))
          throw new Error('not an object');
        tokenParams = { kind: 'json', object: object as Record<string, unknown> };
      } catch (e) {
        report(
          'error',
          'TokenParams',
          `TokenParams looks like JSON but does not parse: ${(e as Error).message}`,
          'write a JSON object such as {"audience":"x"}, or form pairs such as audience=x&resource=y',
        );
      }
    } else {
      tokenParams = { kind: 'form', pairs: [...new URLSearchParams(paramsText)] };
    }
    const keys =
      tokenParams?.kind === 'json'
        ? Object.keys(tokenParams.object)
        : tokenParams?.pairs.map((p) => p[0]);
    if (keys?.includes('grant_type')) {
      report(
        'warning',
        'TokenParams',
        'TokenParams cannot change grant_type; that entry is ignored',
        'use GrantType=... instead',
      );
    }
  }

  let tokenPlacement: TokenPlacement = { kind: 'header', name: 'Authorization', scheme: true };
  const placementText = str('TokenPlacement');
  if (placementText !== undefined) {
    const m = /^(header|query)(?::(.+))?$/i.exec(placementText.trim());
    const name = m?.[2]?.trim();
    if (!m || (m[1]!.toLowerCase() === 'query' && !name)) {
      report(
        'error',
        'TokenPlacement',
        `TokenPlacement=${placementText} is not header, header:NAME or query:NAME`,
        'e.g. TokenPlacement=query:access_token',
      );
    } else if (m[1]!.toLowerCase() === 'query') {
      tokenPlacement = { kind: 'query', name: name! };
    } else if (name !== undefined) {
      if (!HEADER_NAME.test(name))
        report(
          'error',
          'TokenPlacement',
          `"${name}" is not a valid HTTP header name`,
          'use letters, digits and -',
        );
      tokenPlacement = { kind: 'header', name, scheme: name.toLowerCase() === 'authorization' };
    }
  }

  // issue 7: a scheme other than the token_type (Zoho wants `Authorization: Zoho-oauthtoken <token>`)
  const tokenScheme = str('TokenScheme')?.trim();
  if (tokenScheme !== undefined && !HEADER_NAME.test(tokenScheme)) {
    report(
      'error',
      'TokenScheme',
      `TokenScheme "${tokenScheme}" is not one word (RFC 9110 auth-scheme)`,
      'write the scheme alone, e.g. TokenScheme=Zoho-oauthtoken',
    );
  } else if (tokenScheme !== undefined && tokenPlacement.kind === 'query') {
    report(
      'warning',
      'TokenScheme',
      'TokenScheme has no effect when TokenPlacement puts the token in the query string',
      'remove TokenScheme, or place the token in a header',
    );
  }

  const refreshOnStatus: number[] = [];
  for (const part of (valueOrDefault('RefreshOnStatus') ?? '401').split(/[\s,]+/).filter(Boolean)) {
    const n = Number(part);
    if (!Number.isInteger(n) || n < 400 || n > 599) {
      report(
        'error',
        'RefreshOnStatus',
        `"${part}" in RefreshOnStatus is not an HTTP error status`,
        'list statuses such as 401,403',
      );
    } else {
      refreshOnStatus.push(n);
    }
  }

  const allowedOrigins = upstream ? [upstream.origin] : [];
  for (const part of (str('AllowedHosts') ?? '').split(/[\s,]+/).filter(Boolean)) {
    const url = parseHttpUrl(/^[a-z][a-z0-9+.-]*:\/\//i.test(part) ? part : `https://${part}`);
    if (!url) {
      report(
        'error',
        'AllowedHosts',
        `"${part}" in AllowedHosts is not a host or origin`,
        'list origins such as https://files.example.com',
      );
    } else if (!allowedOrigins.includes(url.origin)) {
      allowedOrigins.push(url.origin);
    }
  }

  let outboundProxy: OutboundProxy | undefined;
  const proxyHost = str('ProxyHost');
  const proxyPort = int('ProxyPort', 1, 65535);
  if (proxyHost !== undefined) {
    outboundProxy = {
      host: proxyHost,
      port: proxyPort ?? 8080,
      ...(str('ProxyUser') === undefined ? {} : { user: str('ProxyUser')! }),
      ...(str('ProxyPassword') === undefined ? {} : { password: str('ProxyPassword')! }),
    };
  }

  const urlOption = (name: string): URL | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const url = parseHttpUrl(v);
    if (!url)
      report(
        'error',
        name,
        `${name} "${v}" is not an http:// or https:// URL`,
        `write ${name} as a full URL`,
      );
    return url;
  };

  const grantType = str('GrantType') ?? GRANT_BY_METHOD[effectiveMethod.code];

  let paging: PagingSettings | undefined;
  const pagingText = str('Paging');
  if (pagingText !== undefined) {
    const parsed = parsePagingOption(pagingText);
    for (const problem of parsed.problems)
      report('error', 'Paging', problem, 'e.g. Paging=next-url;records=value;next=@odata.nextLink');
    if (parsed.problems.length === 0) paging = parsed.settings;
  }

  const config: DsnConfig = {
    name: raw.name,
    source: raw.source,
    method,
    effectiveMethod,
    ...(method.kind === 'oauth' && grantType !== undefined && effectiveMethod.code !== 50
      ? { grantType }
      : {}),
    ...(upstream ? { upstream } : {}),
    ...opt('clientId', str('ClientID')),
    ...opt('clientSecret', str('ClientSecret')),
    ...opt('refreshToken', str('RefreshToken')),
    ...opt('accessToken', str('AccessToken')),
    ...(tokenEndpoint ? { tokenEndpoint } : {}),
    ...opt('authUri', urlOption('AuthURI')),
    ...opt('redirectUri', urlOption('RedirectURI')),
    ...opt('scope', str('Scope')),
    ...opt('oauthCode', str('OAuthCode')),
    clientCredentialsMode,
    ...opt('authHeader', authHeader),
    ...opt('authParam', str('AuthParam')),
    ...opt('securityToken', str('SecurityToken')),
    ...opt('user', str('User')),
    ...opt('password', str('Password')),
    ...opt('claimsIssuer', str('ClaimsIssuer')),
    ...opt('claimsSubject', str('ClaimsSubject')),
    ...opt('jwtPrivateKeyFile', str('JWTPrivateKeyFile')),
    jwtAlgorithm: valueOrDefault('JWTAlgorithm') ?? 'RS256',
    ...opt('healthUri', urlOption('HealthURI')),
    ...opt('outboundProxy', outboundProxy),
    validateServerCertificate: bool('ValidateServerCertificate'),
    ...opt('trustStore', str('TrustStore')),
    ...opt('hostNameInCertificate', str('HostNameInCertificate')),
    ...opt('listenPort', str('ListenPort') === undefined ? undefined : int('ListenPort', 1, 65535)),
    tokenRequestFormat: formatText === 'json' || formatText === 'query' ? formatText : 'form',
    ...opt('tokenParams', tokenParams),
    tokenPlacement,
    ...opt('tokenScheme', tokenScheme),
    refreshMarginSeconds: int('RefreshMargin') ?? 300,
    defaultTokenLifetimeSeconds: int('DefaultTokenLifetime', 1) ?? 3600,
    refreshOnStatus,
    ...opt('tokenStore', str('TokenStore')),
    tokenStoreKey: str('TokenStoreKey') ?? raw.name,
    allowedOrigins,
    maxUserTokens: int('MaxUserTokens', 1) ?? 1000,
    exposeTokens: bool('ExposeTokens'),
    ...opt('adminKey', str('AdminKey')),
    interceptTls: bool('InterceptTLS'),
    tunnelOtherHosts: bool('TunnelOtherHosts'),
    connectTimeoutSeconds: int('ConnectTimeout', 1) ?? 10,
    headersTimeoutSeconds: int('HeadersTimeout', 1) ?? 60,
    bodyTimeoutSeconds: int('BodyTimeout', 1) ?? 300,
    replayBodyLimitBytes: int('ReplayBodyLimit') ?? 1024 * 1024,
    rewriteBodyUrls: bool('RewriteBodyUrls'),
    ...opt('paging', paging),
    origins,
  };

  if (config.exposeTokens && config.adminKey === undefined) {
    report(
      'error',
      'ExposeTokens',
      'ExposeTokens=1 needs an AdminKey',
      'set AdminKey to a long random string',
    );
  }

  const errorsAfter = problems.filter((p) => p.severity === 'error').length;
  return errorsAfter > errorsBefore ? undefined : config;
}

/** DataDirect's value 24: the grant follows from what is set. */
function legacyGrant(raw: RawDsn): AuthMethod {
  const has = (k: string): boolean => (raw.values.get(k)?.value ?? '') !== '';
  const code = has('RefreshToken')
    ? 54
    : has('User') && has('Password')
      ? 52
      : has('ClientID') && has('ClientSecret')
        ? 53
        : has('AccessToken')
          ? 50
          : 54;
  return lookupAuthMethod(String(code))!;
}

function parseHttpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
