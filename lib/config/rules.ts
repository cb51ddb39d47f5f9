import { isLoopbackHost } from '../net/loopback.js';
import { OPTIONS, OPTION, type OptionDef } from './catalogue.js';
import type { DsnConfig } from './dsn.js';
import { shownUrlOption } from './masked-url.js';
import type { OptionReader } from './option-reader.js';
import { postOnlyTokenHost } from './post-only-token-hosts.js';
import { tokenParamsNeedUser } from './values/token-params.js';
import { isCertificateClientAuth } from './values/client-credentials-mode.js';

/**
 * A rule that relates options to each other, run on the resolved DSN once every option has been
 * read. It reports through the reader; it never changes the DSN.
 */
export type CrossFieldRule = (dsn: DsnConfig, options: OptionReader) => void;

/** Each option the effective method needs (the catalogue's `requiredBy`) is set. */
export function requiredByMethod(dsn: DsnConfig, options: OptionReader): void {
  const m = dsn.effectiveMethod;
  for (const o of OPTIONS) {
    if (o.requiredBy?.includes(m.code) && options.text(o) === undefined) {
      // RFC 8705 2: with certificate client authentication the certificate replaces the secret
      if (o === OPTION.ClientSecret && isCertificateClientAuth(dsn.clientCredentialsMode)) continue;
      options.error(
        undefined,
        `${o.name} is missing; AuthenticationMethod=${m.code} (${m.name}) needs it`,
        `add ${o.name}=... to [${dsn.name}]`,
      );
    }
  }
}

/**
 * Method 55 signs with a PEM key (JWTPrivateKeyFile) or, as DataDirect takes it, a PKCS#12 file
 * (JWTCertStore): one of them, not both.
 */
export function jwtSigningKey(dsn: DsnConfig, options: OptionReader): void {
  if (dsn.effectiveMethod.code !== 55) return;
  const pem = options.text(OPTION.JWTPrivateKeyFile) !== undefined;
  const p12 = options.text(OPTION.JWTCertStore) !== undefined;
  if (pem && p12) {
    options.error(
      OPTION.JWTCertStore,
      'JWTPrivateKeyFile and JWTCertStore are both set: tokenshim would not know which key signs',
      'keep one of them',
    );
  } else if (!pem && !p12) {
    options.error(
      undefined,
      `neither JWTPrivateKeyFile nor JWTCertStore is set; AuthenticationMethod=55 (${dsn.effectiveMethod.name}) needs the key that signs its assertions`,
      `add JWTCertStore=key.p12 (with JWTCertPassword) or JWTPrivateKeyFile=key.pem to [${dsn.name}]`,
    );
  }
}

/** A refresh-token DSN may start without one: `tokenshim login` can put one in the store. */
export function refreshTokenMissing(dsn: DsnConfig, options: OptionReader): void {
  if (dsn.effectiveMethod.code !== 54 || options.text(OPTION.RefreshToken) !== undefined) return;
  options.warn(
    undefined,
    'RefreshToken is not set: tokenshim will use one from the token store if `tokenshim login` saved one',
    `run \`tokenshim login ${dsn.name}\`, or add RefreshToken=... to [${dsn.name}]`,
  );
}

/** An authorization-code DSN needs a code to exchange, or a refresh token from an earlier one. */
export function oauthCodeMissing(dsn: DsnConfig, options: OptionReader): void {
  if (
    dsn.effectiveMethod.code !== 51 ||
    options.text(OPTION.OAuthCode) !== undefined ||
    options.text(OPTION.RefreshToken) !== undefined
  ) {
    return;
  }
  options.warn(
    undefined,
    'neither OAuthCode nor RefreshToken is set',
    `run \`tokenshim login ${dsn.name}\`, or add OAuthCode=... to [${dsn.name}]`,
  );
}

/**
 * TokenURI without `POST ` is a GET (DataDirect's rule), whose parameters travel in the URL,
 * where server and proxy logs keep them; and some providers refuse GET outright (tokenshim then
 * retries as POST, after the GET went out). Said before the first token request, not after.
 */
export function tokenUriByGet(dsn: DsnConfig, options: OptionReader): void {
  const endpoint = dsn.tokenEndpoint;
  if (endpoint?.method !== 'GET' || dsn.effectiveMethod.kind !== 'oauth') return;
  const provider = postOnlyTokenHost(endpoint.url.hostname);
  const inUrl = secretsInTokenUrl(dsn);
  if (provider === undefined && inUrl.length === 0) return;
  const carries = inUrl.length === 0 ? '' : `with ${inUrl.join(' and ')} in its URL`;
  const shown = shownUrlOption(endpoint.url, dsn.origins.get(OPTION.TokenURI.name));
  options.warn(
    OPTION.TokenURI,
    provider === undefined
      ? `TokenURI has no "POST " prefix, so tokenshim sends the token request as a GET ${carries}, where server and proxy logs keep it`
      : `TokenURI has no "POST " prefix, so tokenshim sends a GET${carries ? ` ${carries}` : ''}, which ${provider} answers with 405; tokenshim then retries as POST`,
    provider === undefined
      ? `write TokenURI=POST ${shown} if the token endpoint accepts POST (RFC 6749 3.2 requires it); keep GET only for one that refuses POST`
      : `write TokenURI=POST ${shown}`,
  );
}

/** What a GET token request of this DSN carries in its URL that is a credential. */
function secretsInTokenUrl(dsn: DsnConfig): string[] {
  const found: string[] = [];
  // a GrantType of the user's own carries what TokenParams say: nothing known here
  const own = dsn.grantType === dsn.effectiveMethod.grantType;
  switch (own ? dsn.effectiveMethod.code : undefined) {
    case 54:
    case 56:
      found.push('the refresh token');
      break;
    case 51:
      found.push('the authorization code', 'the refresh token');
      break;
    case 52:
      found.push('the password');
      break;
    case 55:
      found.push('the signed assertion');
      break;
  }
  // modes 0 and 1 send the secret as HTTP Basic; 2 and 3 as parameters, in the URL of a GET;
  // the RFC 8705 modes send none
  const mode = dsn.clientCredentialsMode;
  if (dsn.clientId && dsn.clientSecret && (mode === 2 || mode === 3))
    found.push('the client secret');
  return found;
}

/** In OAuth modes AuthHeader names an extra header whose value is SecurityToken (tenant ids). */
export function authHeaderNeedsSecurityToken(dsn: DsnConfig, options: OptionReader): void {
  if (
    dsn.method.kind !== 'oauth' ||
    options.text(OPTION.AuthHeader) === undefined ||
    options.text(OPTION.SecurityToken) !== undefined
  ) {
    return;
  }
  options.error(
    OPTION.AuthHeader,
    'AuthHeader is set but SecurityToken is empty: in OAuth modes they add one extra header together',
    'set SecurityToken=..., or remove AuthHeader',
  );
}

/** TokenScheme prefixes a header value; a query parameter carries the bare token. */
export function tokenSchemeNeedsHeader(dsn: DsnConfig, options: OptionReader): void {
  if (dsn.tokenScheme === undefined || dsn.tokenPlacement.kind !== 'query') return;
  options.warn(
    OPTION.TokenScheme,
    'TokenScheme has no effect when TokenPlacement puts the token in the query string',
    'remove TokenScheme, or place the token in a header',
  );
}

/** The token route hands out live tokens: never without a key. */
export function exposeTokensNeedsAdminKey(dsn: DsnConfig, options: OptionReader): void {
  if (!dsn.exposeTokens || dsn.adminKey !== undefined) return;
  options.error(
    OPTION.ExposeTokens,
    'ExposeTokens=1 needs an AdminKey',
    'set AdminKey to a long random string',
  );
}

/** Prefetch keeps one token fresh: static credentials have none, per-user DSNs one per user. */
export function prefetchNeedsOneToken(dsn: DsnConfig, options: OptionReader): void {
  if (!dsn.prefetch) return;
  const why =
    dsn.effectiveMethod.kind !== 'oauth'
      ? `AuthenticationMethod=${dsn.effectiveMethod.code} has no token to fetch`
      : dsn.tokenParams !== undefined && tokenParamsNeedUser(dsn.tokenParams)
        ? 'the DSN issues one token per user (TokenParams with {user}), fetched when a user first asks'
        : undefined;
  if (why === undefined) return;
  options.warn(OPTION.Prefetch, `Prefetch=1 has no effect: ${why}`, 'remove Prefetch');
}

/**
 * RFC 8705 client authentication: the certificate is the credential (ClientCertificate must be
 * set), client_id still identifies the client (2.1, 2.2: "MUST"), and a secret is not sent.
 */
export function certificateClientAuth(dsn: DsnConfig, options: OptionReader): void {
  const mode = dsn.clientCredentialsMode;
  if (!isCertificateClientAuth(mode) || dsn.effectiveMethod.kind !== 'oauth') return;
  if (dsn.clientCertificate === undefined) {
    options.error(
      OPTION.ClientCredentialsMode,
      `ClientCredentialsMode=${mode} authenticates the client with its TLS certificate, but ClientCertificate is not set`,
      `set ClientCertificate to the certificate registered for the client (a PEM or .p12 file), or choose another ClientCredentialsMode`,
    );
  }
  if (dsn.clientId === undefined) {
    options.error(
      OPTION.ClientCredentialsMode,
      `ClientCredentialsMode=${mode} needs ClientID: the token endpoint looks the client up by it (RFC 8705 2)`,
      `add ClientID=... to [${dsn.name}]`,
    );
  }
  if (dsn.clientSecret !== undefined) {
    options.warn(
      OPTION.ClientSecret,
      `ClientSecret is not sent: with ClientCredentialsMode=${mode} the client certificate authenticates the client`,
      'remove ClientSecret, or choose a ClientCredentialsMode from 0 to 3 to send it',
    );
  }
}

/** ClientCertificateKey and ClientCertificatePassword only describe ClientCertificate. */
export function clientCertificatePartsNeedCertificate(dsn: DsnConfig, options: OptionReader): void {
  if (dsn.clientCertificate !== undefined) return;
  for (const part of [OPTION.ClientCertificateKey, OPTION.ClientCertificatePassword]) {
    if (options.text(part) === undefined) continue;
    options.error(
      part,
      `${part.name} is set but ClientCertificate is not, so no client certificate would be presented`,
      'set ClientCertificate to the certificate file (PEM or .p12/.pfx)',
    );
  }
}

/** A body that rejects the token can only be fixed by a new token: OAuth methods have one. */
export function refreshOnBodyNeedsToken(dsn: DsnConfig, options: OptionReader): void {
  if (dsn.refreshOnBody === undefined || dsn.effectiveMethod.kind === 'oauth') return;
  const m = dsn.effectiveMethod;
  options.warn(
    OPTION.RefreshOnBody,
    `RefreshOnBody has no effect: AuthenticationMethod=${m.code} (${m.name}) has no token tokenshim could refresh`,
    'remove RefreshOnBody, or use an OAuth method (50-56)',
  );
}

/** the shortest AdminKey or ClientKey accepted: whoever guesses one gets live tokens or data */
export const KEY_MIN_LENGTH = 16;

/** AdminKey and ClientKey are guessable below KEY_MIN_LENGTH characters. */
export function keysLongEnough(dsn: DsnConfig, options: OptionReader): void {
  for (const [option, key, gives] of [
    [OPTION.AdminKey, dsn.adminKey, 'live tokens'],
    [OPTION.ClientKey, dsn.clientKey, "the DSN's credential"],
  ] as const) {
    if (key === undefined || key.length >= KEY_MIN_LENGTH) continue;
    options.error(
      option,
      `${option.name} has ${key.length} characters; it needs at least ${KEY_MIN_LENGTH}, since whoever guesses it gets ${gives}`,
      `set ${option.name} to a long random string (openssl rand -hex 24 prints one)`,
    );
  }
}

/**
 * An http:// token endpoint or upstream on another machine: the client secret, refresh token or
 * credential crosses the network readable by anyone on the path. A warning, not an error: some
 * sites terminate TLS in a proxy next door.
 */
export function cleartextToRemoteHosts(dsn: DsnConfig, options: OptionReader): void {
  const sendsCredential = dsn.effectiveMethod.code !== 15 || dsn.securityToken !== undefined;
  const cleartext: [OptionDef, URL | undefined, string][] = [
    [OPTION.TokenURI, dsn.tokenEndpoint?.url, 'the client secret and the tokens'],
  ];
  if (sendsCredential) {
    const upstreamOption =
      options.text(OPTION.HostName) === undefined ? OPTION.RestSamplePath : OPTION.HostName;
    cleartext.push([upstreamOption, dsn.upstream, "the DSN's credential, on every request,"]);
    for (const origin of dsn.credentialOrigins.slice(dsn.upstream ? 1 : 0)) {
      cleartext.push([OPTION.AllowedHosts, new URL(origin), "the DSN's credential"]);
    }
  }
  for (const [option, url, what] of cleartext) {
    if (url?.protocol !== 'http:' || isLoopbackHost(url.hostname)) continue;
    options.warn(
      option,
      `${option.name} sends ${what} to ${url.host} over http://, unencrypted: anyone on the network path can read it`,
      `use https://${url.host} if the server offers it`,
    );
  }
}

/** Certificate checks off: anyone on the path can pose as the token endpoint or the upstream. */
export function certificatesNotValidated(dsn: DsnConfig, options: OptionReader): void {
  if (dsn.validateServerCertificate) return;
  options.warn(
    OPTION.ValidateServerCertificate,
    'ValidateServerCertificate=0: any certificate is accepted, so anyone on the network path can pose as the token endpoint or the upstream and read the credentials',
    'remove it, and put the private CA in TrustStore (or set HostNameInCertificate) instead',
  );
}

export const CROSS_FIELD_RULES: readonly CrossFieldRule[] = Object.freeze([
  requiredByMethod,
  jwtSigningKey,
  refreshTokenMissing,
  oauthCodeMissing,
  authHeaderNeedsSecurityToken,
  tokenUriByGet,
  tokenSchemeNeedsHeader,
  exposeTokensNeedsAdminKey,
  prefetchNeedsOneToken,
  certificateClientAuth,
  clientCertificatePartsNeedCertificate,
  refreshOnBodyNeedsToken,
  keysLongEnough,
  cleartextToRemoteHosts,
  certificatesNotValidated,
]);
