import { distance } from 'fastest-levenshtein';

/**
 * Every option tokenshim reads, in one place: DataDirect's connection options (same long and short
 * names, so a DataDirect DSN works as is) and tokenshim's own, in the same CamelCase style.
 */

export type OptionType =
  | 'string'
  /** never printed whole: masked in `check`, redacted in logs */
  | 'secret'
  | 'integer'
  | 'boolean'
  | 'url'
  | 'method'
  | 'list';

export interface OptionDef {
  readonly name: string;
  readonly short: readonly string[];
  readonly type: OptionType;
  readonly default?: string;
  readonly description: string;
  /** AuthenticationMethod codes for which the option must be set */
  readonly requiredBy?: readonly number[];
  /** accepted and ignored (ODBC plumbing such as Driver=) */
  readonly ignored?: boolean;
  /** DataDirect's own option (false: tokenshim's) */
  readonly datadirect: boolean;
}

const dd = (o: Omit<OptionDef, 'datadirect' | 'short'> & { short?: string[] }): OptionDef =>
  Object.freeze({ short: [], ...o, datadirect: true });
const own = (o: Omit<OptionDef, 'datadirect' | 'short'> & { short?: string[] }): OptionDef =>
  Object.freeze({ short: [], ...o, datadirect: false });

export const OPTIONS: readonly OptionDef[] = Object.freeze([
  dd({
    name: 'AuthenticationMethod',
    short: ['am'],
    type: 'method',
    default: '15',
    description: 'How requests are authenticated: a number (54) or a name (OAuth2-RefreshToken).',
  }),
  dd({
    name: 'ClientID',
    short: ['cid'],
    type: 'string',
    description: 'OAuth client id.',
    requiredBy: [51, 53, 54, 56],
  }),
  dd({
    name: 'ClientSecret',
    type: 'secret',
    description: 'OAuth client secret.',
    requiredBy: [53],
  }),
  dd({
    name: 'RefreshToken',
    short: ['rtk'],
    type: 'secret',
    description: 'Refresh token redeemed at TokenURI (rotated ones are kept in the token store).',
  }),
  dd({
    name: 'AccessToken',
    short: ['atk'],
    type: 'secret',
    description: 'Static access token (method 50).',
    requiredBy: [50],
  }),
  dd({
    name: 'TokenURI',
    short: ['o2tu'],
    type: 'string',
    description: 'Token endpoint; GET unless prefixed with "POST ".',
    requiredBy: [24, 51, 52, 53, 54, 55, 56],
  }),
  dd({
    name: 'AuthURI',
    type: 'url',
    description: 'Authorization endpoint (tokenshim login).',
    requiredBy: [56],
  }),
  dd({
    name: 'RedirectURI',
    short: ['o2ru'],
    type: 'url',
    description: 'Redirect URI registered for tokenshim login (a loopback URL).',
  }),
  dd({
    name: 'Scope',
    short: ['oas'],
    type: 'string',
    description: 'Space-separated scopes, sent on every token request, refresh included.',
  }),
  dd({
    name: 'OAuthCode',
    short: ['oac'],
    type: 'secret',
    description: 'Authorization code exchanged once (method 51).',
  }),
  dd({
    name: 'ClientCredentialsMode',
    short: ['clcm'],
    type: 'integer',
    default: '0',
    description:
      'How the client id and secret reach TokenURI: 0/1 HTTP Basic, 2 URL query, 3 POST body.',
  }),
  dd({
    name: 'AuthHeader',
    short: ['ah'],
    type: 'string',
    description:
      'Header for Basic/HttpHeader credentials; in OAuth modes, an extra header carrying SecurityToken.',
  }),
  dd({
    name: 'AuthParam',
    short: ['ap'],
    type: 'string',
    description: 'Query parameter that carries SecurityToken (method 14).',
    requiredBy: [14],
  }),
  dd({
    name: 'SecurityToken',
    short: ['st'],
    type: 'secret',
    description: 'Static token (methods 34, 25, 14) or the AuthHeader value in OAuth modes.',
    requiredBy: [34, 25, 14],
  }),
  dd({
    name: 'User',
    short: ['uid', 'logonid'],
    type: 'string',
    description: 'User name (Basic, password grant).',
    requiredBy: [0, 52],
  }),
  dd({
    name: 'Password',
    short: ['pwd'],
    type: 'secret',
    description: 'Password (Basic, password grant).',
    requiredBy: [0, 52],
  }),
  dd({
    name: 'ClaimsIssuer',
    type: 'string',
    description: 'JWT bearer: iss claim.',
    requiredBy: [55],
  }),
  dd({
    name: 'ClaimsSubject',
    type: 'string',
    description: 'JWT bearer: sub claim.',
    requiredBy: [55],
  }),
  dd({
    name: 'HostName',
    short: ['host'],
    type: 'string',
    description: 'Upstream base URL (https://api.example.com/rest/v1); a bare host means https.',
  }),
  dd({
    name: 'PortNumber',
    short: ['port'],
    type: 'integer',
    description: 'Upstream port when HostName has none.',
  }),
  dd({
    name: 'RestSamplePath',
    short: ['rsp'],
    type: 'string',
    description: 'A sample URL; its origin is the upstream when HostName is not set.',
  }),
  dd({
    name: 'RestConfigFile',
    short: ['rcf'],
    type: 'string',
    description: 'DataDirect Model file; not read by tokenshim.',
    ignored: true,
  }),
  dd({
    name: 'HealthURI',
    type: 'url',
    description: 'URL fetched by tokenshim check to confirm access.',
  }),
  dd({ name: 'ProxyHost', type: 'string', description: 'Outbound HTTP proxy host.' }),
  dd({ name: 'ProxyPort', type: 'integer', description: 'Outbound HTTP proxy port.' }),
  dd({ name: 'ProxyUser', type: 'string', description: 'Outbound proxy user.' }),
  dd({ name: 'ProxyPassword', type: 'secret', description: 'Outbound proxy password.' }),
  dd({
    name: 'ValidateServerCertificate',
    short: ['vsc'],
    type: 'boolean',
    default: '1',
    description: 'Verify the upstream TLS certificate (0 turns it off: only for tests).',
  }),
  dd({
    name: 'TrustStore',
    type: 'string',
    description: 'PEM file of CA certificates for the upstream.',
  }),
  dd({
    name: 'HostNameInCertificate',
    type: 'string',
    description: 'Name expected in the upstream certificate when it differs from HostName.',
  }),
  dd({ name: 'Driver', type: 'string', description: 'ODBC driver; ignored.', ignored: true }),
  dd({ name: 'Description', type: 'string', description: 'Free text; ignored.', ignored: true }),

  own({
    name: 'ListenPort',
    type: 'integer',
    description: 'A dedicated local port for this DSN; paths are forwarded unchanged.',
  }),
  own({
    name: 'TokenRequestFormat',
    type: 'string',
    default: 'form',
    description:
      'Token request body: form (RFC 6749), json, or query (every parameter in the URL of a POST without a body, as Zoho and GitHub document).',
  }),
  own({
    name: 'TokenParams',
    type: 'string',
    description: 'Extra token-request parameters: audience=x&resource=y, or a JSON object.',
  }),
  own({
    name: 'TokenPlacement',
    type: 'string',
    default: 'header',
    description: 'Where the access token goes: header, header:NAME or query:NAME.',
  }),
  own({
    name: 'TokenScheme',
    type: 'string',
    description:
      'The word before the token in the header (Zoho-oauthtoken); default: the token_type the server returns (Bearer).',
  }),
  own({
    name: 'RefreshMargin',
    type: 'integer',
    default: '300',
    description:
      'Seconds before expiry to refresh in the background (capped at a tenth of the lifetime; 0: on demand only).',
  }),
  own({
    name: 'DefaultTokenLifetime',
    type: 'integer',
    default: '3600',
    description:
      'Seconds a token lives when the server says nothing (no expires_in/expires_at/exp).',
  }),
  own({
    name: 'RefreshOnStatus',
    type: 'list',
    default: '401',
    description: 'Upstream statuses that mean "token rejected": refresh once and replay.',
  }),
  own({
    name: 'TokenStore',
    type: 'string',
    description: 'Where refresh tokens are kept: a file path or redis://host:port/db.',
  }),
  own({
    name: 'TokenStoreKey',
    type: 'string',
    description: 'Key in the token store (default: the DSN name).',
  }),
  own({
    name: 'AllowedHosts',
    type: 'list',
    description: 'Extra origins (https://host[:port]) that may receive this DSN credentials.',
  }),
  own({
    name: 'JWTPrivateKeyFile',
    type: 'string',
    description: 'PEM private key for method 55.',
    requiredBy: [55],
  }),
  own({
    name: 'JWTAlgorithm',
    type: 'string',
    default: 'RS256',
    description: 'JWS algorithm for method 55.',
  }),
  own({
    name: 'GrantType',
    type: 'string',
    description: 'Any grant_type string (urn:qlik:oauth:user-impersonation).',
  }),
  own({
    name: 'MaxUserTokens',
    type: 'integer',
    default: '1000',
    description: 'Per-user tokens kept.',
  }),
  own({
    name: 'ExposeTokens',
    type: 'boolean',
    default: '0',
    description: 'Allow POST /_tokenshim/token/<DSN> with AdminKey.',
  }),
  own({
    name: 'AdminKey',
    type: 'secret',
    description: 'Key required by token-exposing admin routes.',
  }),
  own({
    name: 'InterceptTLS',
    type: 'boolean',
    default: '0',
    description: 'Decrypt CONNECT to this host with the local CA.',
  }),
  own({
    name: 'TunnelOtherHosts',
    type: 'boolean',
    default: '0',
    description: 'Tunnel CONNECT to other hosts untouched.',
  }),
  own({
    name: 'ConnectTimeout',
    type: 'integer',
    default: '10',
    description: 'Seconds to connect upstream.',
  }),
  own({
    name: 'HeadersTimeout',
    type: 'integer',
    default: '60',
    description: 'Seconds to wait for upstream headers.',
  }),
  own({
    name: 'BodyTimeout',
    type: 'integer',
    default: '300',
    description: 'Seconds an upstream body may stay idle.',
  }),
  own({
    name: 'RewriteBodyUrls',
    type: 'boolean',
    default: '1',
    description:
      'Point upstream URLs inside JSON bodies (@odata.nextLink, links.next.href) back at the gateway or dedicated port.',
  }),
  own({
    name: 'Paging',
    type: 'string',
    description:
      'Join every page of GET answers by default: next-url;records=value;next=@odata.nextLink (tokenshim.* query parameters win).',
  }),
  own({
    name: 'ReplayBodyLimit',
    type: 'integer',
    default: '1048576',
    description:
      'Request bodies up to this many bytes are buffered so a rejected token can be replayed.',
  }),
]);

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
