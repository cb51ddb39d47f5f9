import { pagingOption } from './values/paging.js';
import { distance } from 'fastest-levenshtein';
import { lookupAuthMethod } from './auth-methods.js';
import { authMethod } from './values/auth-method.js';
import { clientCredentialsMode } from './values/client-credentials-mode.js';
import { browserOrigins, httpErrorStatuses, origins } from './values/lists.js';
import {
  boolean,
  headerName,
  httpUrl,
  integer,
  oneOf,
  secret,
  text,
  type OptionParser,
  type OptionType,
  type ParseContext,
} from './values/parser.js';
import { bodyRejection } from './values/body-rejection.js';
import { tokenParams } from './values/token-params.js';
import { tokenPlacement, tokenScheme } from './values/token-placement.js';
import { postOnlyUri, refreshTokenUri, tokenUri } from './values/token-uri.js';

/**
 * Every option tokenshim reads, in one place: DataDirect's connection options (same long and short
 * names, so a DataDirect DSN works as is) and tokenshim's own, in the same CamelCase style. Each
 * entry decides how its text is read (`value`, from lib/config/values/) and its default: no other
 * file restates either.
 *
 * Adding an option:
 * 1. an entry here: its parser (text, secret, integer({ min, max }), boolean, httpUrl, oneOf, list,
 *    or a new one in values/), its default if it has one, requiredBy if some methods need it;
 * 2. its field in DsnConfig (dsn.ts) and one line in the family of options/ that fills it:
 *    `newField: options.value(OPTION.NewOption)`;
 * 3. a named rule in rules.ts if it depends on other options; a line in secrets.ts if it is a
 *    secret (the compiler asks for it);
 * 4. its row in README.md's option table (test/readme.test.ts checks).
 */

export type { OptionType } from './values/parser.js';

export interface OptionDef<T = unknown, K extends OptionType = OptionType> {
  readonly name: string;
  readonly short: readonly string[];
  readonly type: K;
  /** text to value; undefined after reporting why the text is wrong */
  parse(text: string, ctx: ParseContext<T>): T | undefined;
  /** the value when the option is absent or empty */
  readonly default?: T;
  readonly description: string;
  /** AuthenticationMethod codes (after legacy 24 is resolved) for which the option must be set */
  readonly requiredBy?: readonly number[];
  /** accepted and ignored (ODBC plumbing such as Driver=) */
  readonly ignored?: boolean;
  /** DataDirect's own option (false: tokenshim's) */
  readonly datadirect: boolean;
}

interface OptionSpec<T, K extends OptionType> {
  readonly short?: readonly string[];
  readonly value: OptionParser<T, K>;
  /** the parser alone decides T: `default: 0` must not widen a mode 0-3 to any number */
  readonly default?: NoInfer<T>;
  readonly description: string;
  readonly requiredBy?: readonly number[];
  readonly ignored?: boolean;
}

type WithDefault<T, K extends OptionType> = Omit<OptionSpec<T, K>, 'default'> & {
  readonly default: NoInfer<T>;
};

type Unnamed<T, K extends OptionType> = Omit<OptionDef<T, K>, 'name'>;

/** Makes entries; with a default, the entry's type says so, and the reader never returns undefined. */
interface OptionFactory {
  <T, K extends OptionType>(spec: WithDefault<T, K>): Unnamed<T, K> & { readonly default: T };
  <T, K extends OptionType>(spec: OptionSpec<T, K>): Unnamed<T, K>;
}

function optionFactory(datadirect: boolean): OptionFactory {
  return (<T, K extends OptionType>({ value, short = [], ...rest }: OptionSpec<T, K>) => ({
    ...rest,
    short,
    type: value.type,
    parse: (text: string, ctx: ParseContext<T>) => value.parse(text, ctx),
    datadirect,
  })) as OptionFactory;
}

/** DataDirect's own options */
const dd = optionFactory(true);
/** tokenshim's options, in DataDirect's style */
const own = optionFactory(false);

/** The catalogue's keys are the options' canonical names. */
function named<S extends Record<string, Unnamed<unknown, OptionType>>>(
  specs: S,
): { readonly [N in keyof S]: S[N] & { readonly name: N } } {
  const out: Record<string, OptionDef> = {};
  for (const [name, def] of Object.entries(specs)) out[name] = Object.freeze({ name, ...def });
  return Object.freeze(out) as { readonly [N in keyof S]: S[N] & { readonly name: N } };
}

const DEFAULT_METHOD = lookupAuthMethod('15')!;
const port = integer({ min: 1, max: 65535 });

export const OPTION = named({
  AuthenticationMethod: dd({
    short: ['am'],
    value: authMethod,
    default: DEFAULT_METHOD,
    description: 'How requests are authenticated: a number (54) or a name (OAuth2-RefreshToken).',
  }),
  ClientID: dd({
    short: ['cid'],
    value: text,
    description: 'OAuth client id.',
    requiredBy: [51, 53, 54, 56],
  }),
  ClientSecret: dd({ value: secret, description: 'OAuth client secret.', requiredBy: [53] }),
  RefreshToken: dd({
    short: ['rtk'],
    value: secret,
    description: 'Refresh token redeemed at TokenURI (rotated ones are kept in the token store).',
  }),
  AccessToken: dd({
    short: ['atk'],
    value: secret,
    description: 'Static access token (method 50).',
    requiredBy: [50],
  }),
  TokenURI: dd({
    short: ['o2tu'],
    value: tokenUri,
    description: 'Token endpoint; GET unless prefixed with "POST ".',
    requiredBy: [51, 52, 53, 54, 55, 56],
  }),
  AuthURI: dd({
    value: httpUrl,
    description: 'Authorization endpoint (tokenshim login).',
    requiredBy: [56],
  }),
  RedirectURI: dd({
    short: ['o2ru'],
    value: httpUrl,
    description: 'Redirect URI registered for tokenshim login (a loopback URL).',
  }),
  Scope: dd({
    short: ['oas'],
    value: text,
    description: 'Space-separated scopes, sent on every token request, refresh included.',
  }),
  OAuthCode: dd({
    short: ['oac'],
    value: secret,
    description: 'Authorization code exchanged once (method 51).',
  }),
  ClientCredentialsMode: dd({
    short: ['clcm'],
    value: clientCredentialsMode,
    default: 0,
    description:
      "How the client authenticates at TokenURI: 0/1 HTTP Basic, 2 URL query, 3 POST body, or RFC 8705's tls_client_auth (see below).",
  }),
  AuthHeader: dd({
    short: ['ah'],
    value: headerName,
    description:
      'Header for Basic/HttpHeader credentials; in OAuth modes, an extra header carrying SecurityToken.',
  }),
  AuthParam: dd({
    short: ['ap'],
    value: text,
    description: 'Query parameter that carries SecurityToken (method 14).',
    requiredBy: [14],
  }),
  SecurityToken: dd({
    short: ['st'],
    value: secret,
    description: 'Static token (methods 34, 25, 14) or the AuthHeader value in OAuth modes.',
    requiredBy: [34, 25, 14],
  }),
  User: dd({
    short: ['uid', 'logonid'],
    value: text,
    description: 'User name (Basic, password grant).',
    requiredBy: [0, 52],
  }),
  Password: dd({
    short: ['pwd'],
    value: secret,
    description: 'Password (Basic, password grant).',
    requiredBy: [0, 52],
  }),
  ClaimsIssuer: dd({ value: text, description: 'JWT bearer: iss claim.', requiredBy: [55] }),
  ClaimsSubject: dd({ value: text, description: 'JWT bearer: sub claim.', requiredBy: [55] }),
  JWTCertStore: dd({
    value: text,
    description:
      'PKCS#12 file (.p12/.pfx) holding the key that signs method 55 assertions (instead of JWTPrivateKeyFile).',
  }),
  JWTCertPassword: dd({ value: secret, description: 'Password of the JWTCertStore file.' }),
  JWTCertAlias: dd({
    value: text,
    description: 'Which key of JWTCertStore signs (its alias); needed when the file holds several.',
  }),
  HostName: dd({
    // ServerName: DataDirect's Model files call it {serverName} and its older pages ServerName
    short: ['host', 'servername'],
    value: text,
    description:
      'Upstream base URL (https://api.example.com/rest/v1); a bare host means https (also read as ServerName).',
  }),
  PortNumber: dd({
    short: ['port'],
    value: port,
    description: 'Upstream port when HostName has none.',
  }),
  RestSamplePath: dd({
    short: ['rsp'],
    value: text,
    description: 'A sample URL; its origin is the upstream when HostName is not set.',
  }),
  RestConfigFile: dd({
    // Config: the JDBC driver's name for the same file
    short: ['rcf', 'config'],
    value: text,
    description:
      'DataDirect Model file (.rest): without HostName its endpoints give the upstream (and AllowedHosts); its #headers go upstream.',
  }),
  HealthURI: dd({
    value: httpUrl,
    description: 'URL fetched by tokenshim check to confirm access.',
  }),
  ProxyHost: dd({
    value: text,
    description:
      'Outbound HTTP proxy (name, IPv4 or IPv6) for token endpoint and upstream; else HTTPS_PROXY/HTTP_PROXY/NO_PROXY apply.',
  }),
  ProxyPort: dd({ value: port, default: 8080, description: 'Outbound HTTP proxy port.' }),
  ProxyUser: dd({ value: text, description: 'Outbound proxy user.' }),
  ProxyPassword: dd({ value: secret, description: 'Outbound proxy password.' }),
  ValidateServerCertificate: dd({
    short: ['vsc'],
    value: boolean,
    default: true,
    description:
      "Verify TLS certificates, the token endpoint's and the upstream's (0 turns it off: only for tests).",
  }),
  TrustStore: dd({
    value: text,
    description:
      'PEM file (or one DER .cer) of CA certificates trusted besides the public ones (token endpoint and upstream).',
  }),
  HostNameInCertificate: dd({
    value: text,
    description:
      "Name in HostName's certificate when it differs from HostName (SNI unchanged; other hosts keep their names).",
  }),
  Driver: dd({ value: text, description: 'ODBC driver; ignored.', ignored: true }),
  Description: dd({ value: text, description: 'Free text; ignored.', ignored: true }),

  ListenPort: own({
    value: port,
    description: 'A dedicated local port for this DSN; paths are forwarded unchanged.',
  }),
  RefreshTokenURI: own({
    value: refreshTokenUri,
    description:
      "Where the refresh_token grant goes when not TokenURI (with TokenURI's GET or POST unless prefixed).",
  }),
  DeviceAuthURI: own({
    value: postOnlyUri({
      what: 'the device authorization endpoint',
      spec: 'RFC 8628 3.1',
      value: 'https://login.example.com/oauth/device/code',
    }),
    description: 'Device authorization endpoint (RFC 8628) for tokenshim login --device.',
  }),
  RevokeURI: own({
    value: postOnlyUri({
      what: 'the revocation endpoint',
      spec: 'RFC 7009 2.1',
      value: 'https://login.example.com/oauth/revoke',
    }),
    description: 'Token revocation endpoint (RFC 7009): tokenshim logout revokes the tokens there.',
  }),
  ClientCertificate: own({
    value: text,
    description:
      'TLS client certificate for the upstream and TokenURI: PEM (key inside or in ClientCertificateKey) or PKCS#12 (.p12/.pfx).',
  }),
  ClientCertificateKey: own({
    value: text,
    description: 'PEM private key of ClientCertificate, when its file has none.',
  }),
  ClientCertificatePassword: own({
    value: secret,
    description: 'Password of a PKCS#12 ClientCertificate or of an encrypted ClientCertificateKey.',
  }),
  TokenRequestFormat: own({
    value: oneOf(
      ['form', 'json', 'query'],
      'write form (RFC 6749 bodies), json, or query (parameters in the URL, as Zoho wants)',
    ),
    default: 'form',
    description:
      'Token request body: form (RFC 6749), json, or query (every parameter in the URL of a POST without a body, as Zoho and GitHub document).',
  }),
  TokenParams: own({
    value: tokenParams,
    description: 'Extra token-request parameters: audience=x&resource=y, or a JSON object.',
  }),
  TokenPlacement: own({
    value: tokenPlacement,
    default: { kind: 'header', name: 'Authorization', scheme: true },
    description: 'Where the access token goes: header, header:NAME or query:NAME.',
  }),
  TokenScheme: own({
    value: tokenScheme,
    description:
      'The word before the token in the header (Zoho-oauthtoken); default: the token_type the server returns (Bearer).',
  }),
  RefreshMargin: own({
    value: integer(),
    default: 300,
    description:
      'Seconds before expiry to refresh in the background (capped at a tenth of the lifetime; 0: on demand only).',
  }),
  DefaultTokenLifetime: own({
    value: integer({ min: 1 }),
    default: 3600,
    description:
      'Seconds a token lives when the server says nothing (no expires_in/expires_at/exp).',
  }),
  RefreshOnStatus: own({
    value: httpErrorStatuses,
    default: [401],
    description: 'Upstream statuses that mean "token rejected": refresh once and replay.',
  }),
  Prefetch: own({
    value: boolean,
    default: false,
    description:
      'Fetch the token when serve starts and keep one valid with no traffic; failures show in /_tokenshim/ready and status, never stop tokenshim.',
  }),
  RefreshOnBody: own({
    value: bodyRejection,
    description:
      'Conditions on 2xx JSON bodies that mean "token rejected" (Marketo: errors[].code=601,602): refresh once and replay.',
  }),
  RetryOnStatus: own({
    value: httpErrorStatuses,
    default: [429, 503],
    description:
      'Upstream statuses that mean "later": wait as Retry-After says, then send the request again (up to 3 times).',
  }),
  MaxRetryWait: own({
    value: integer({ max: 3600 }),
    default: 30,
    description:
      'Seconds one request may wait for RetryOnStatus retries in all; a longer Retry-After goes to the client (0: no retries).',
  }),
  TokenStore: own({
    value: text,
    description: 'Where refresh tokens are kept: a file path or redis://host:port/db.',
  }),
  TokenStoreKey: own({
    value: text,
    description: 'Key in the token store (default: the DSN name).',
  }),
  AllowedHosts: own({
    value: origins,
    description: 'Extra origins (https://host[:port]) that may receive this DSN credentials.',
  }),
  AllowedOrigins: own({
    value: browserOrigins,
    default: [],
    description:
      'Web origins (https://app.example.com) whose pages may call this DSN from a browser; empty: none may.',
  }),
  JWTPrivateKeyFile: own({
    value: text,
    description: 'PEM private key for method 55 (or JWTCertStore).',
  }),
  JWTAlgorithm: own({ value: text, default: 'RS256', description: 'JWS algorithm for method 55.' }),
  GrantType: own({
    value: text,
    description: 'Any grant_type string (urn:qlik:oauth:user-impersonation).',
  }),
  MaxUserTokens: own({
    value: integer({ min: 1 }),
    default: 1000,
    description: 'Per-user tokens kept.',
  }),
  ExposeTokens: own({
    value: boolean,
    default: false,
    description: 'Allow POST /_tokenshim/token/<DSN> with AdminKey.',
  }),
  AdminKey: own({
    value: secret,
    description:
      'Key for the admin routes: POST /_tokenshim/token/<DSN>, and any admin route called from another machine.',
  }),
  ClientKey: own({
    value: secret,
    description:
      'Key every client of this DSN must send (the password of HTTP Basic, any user name, or X-Tokenshim-Key); required with --allow-remote.',
  }),
  InterceptTLS: own({
    value: boolean,
    default: false,
    description: 'Decrypt CONNECT to this host with the local CA.',
  }),
  TunnelOtherHosts: own({
    value: boolean,
    default: false,
    description: 'Tunnel CONNECT to other hosts untouched.',
  }),
  ConnectTimeout: own({
    value: integer({ min: 1 }),
    default: 10,
    description: 'Seconds to connect upstream.',
  }),
  HeadersTimeout: own({
    value: integer({ min: 1 }),
    default: 60,
    description: 'Seconds to wait for upstream headers.',
  }),
  BodyTimeout: own({
    value: integer({ min: 1 }),
    default: 300,
    description: 'Seconds an upstream body may stay idle.',
  }),
  RewriteBodyUrls: own({
    value: boolean,
    default: true,
    description:
      'Point upstream URLs inside JSON bodies (@odata.nextLink, links.next.href) back at the gateway or dedicated port.',
  }),
  Paging: own({
    value: pagingOption,
    description:
      'Join every page of GET answers by default: next-url;records=value;next=@odata.nextLink (tokenshim.* query parameters win).',
  }),
  ResponseHeaderLimit: own({
    value: integer({ min: 1024, max: 1024 * 1024 }),
    default: 16 * 1024, // node's own limit
    description:
      'Largest response header block, in bytes, accepted from the upstream and the token endpoint.',
  }),
  ReplayBodyLimit: own({
    value: integer(),
    default: 1024 * 1024, // 1 MiB
    description:
      'Request bodies up to this many bytes are buffered so a rejected token can be replayed.',
  }),
});

/** The options in catalogue order (the README's table follows it). */
export const OPTIONS: readonly OptionDef[] = Object.freeze(Object.values(OPTION));

const BY_KEY = new Map<string, OptionDef>();
for (const o of OPTIONS) {
  BY_KEY.set(o.name.toLowerCase(), o);
  for (const s of o.short) BY_KEY.set(s.toLowerCase(), o);
}

/** Long or short name, any case. */
export function lookupOption(key: string): OptionDef | undefined {
  return BY_KEY.get(key.trim().toLowerCase());
}

/** The option names closest to a misspelt key, for "did you mean". */
export function suggestOption(key: string): string | undefined {
  const k = key.trim().toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const [candidate, def] of BY_KEY) {
    const d = distance(k, candidate);
    if (!best || d < best.d) best = { name: def.name, d };
  }
  if (!best) return undefined;
  return best.d <= Math.max(2, Math.floor(k.length / 4)) ? best.name : undefined;
}
