import type { AuthMethod } from './auth-methods.js';
import type { PagingSettings } from './paging-option.js';

/** Where a value came from, so every error can name the file and line. */
export interface ValueOrigin {
  /** file path, or `connection string` */
  readonly source: string;
  /** 1-based line in the file (absent for connection strings) */
  readonly line?: number;
  /** the key as the user spelt it (`cid`, `clientid`) */
  readonly key: string;
  /**
   * The value as written when it held `${env:}`, `${file:}` or `${dpapi:}` references
   * (`${env:CRM_SECRET}`): safe to print, while the value it gave is a secret.
   */
  readonly reference?: string;
}

/** One raw key/value as read from a file or a connection string. */
export interface RawEntry {
  readonly key: string;
  readonly value: string;
  readonly origin: ValueOrigin;
}

/** A raw DSN: its name and its key/value pairs, keyed by canonical option name. */
export interface RawDsn {
  readonly name: string;
  readonly source: string;
  /** line of the `[section]` header */
  readonly line?: number;
  readonly values: Map<string, { value: string; origin: ValueOrigin }>;
}

/** RFC 8705 2.1 (a certificate from a CA) and 2.2 (a self-signed one registered with the server) */
export type CertificateClientAuth = 'tls_client_auth' | 'self_signed_tls_client_auth';

/**
 * How the client authenticates at TokenURI: DataDirect's 0 to 3 (where ClientSecret goes), or an
 * RFC 8705 method (the TLS client certificate, ClientCertificate, is the credential).
 */
export type ClientCredentialsMode = 0 | 1 | 2 | 3 | CertificateClientAuth;

/** A TLS client certificate presented to the upstream and to the token endpoint. */
export interface ClientCertificateFiles {
  /** a PEM file (certificate, its chain, and possibly the key) or a PKCS#12 file (.p12/.pfx) */
  readonly file: string;
  /** the PEM private key, when not inside `file` */
  readonly keyFile?: string;
  /** the password of a PKCS#12 file or of an encrypted PEM key */
  readonly password?: string;
}

export interface TokenEndpoint {
  /** DataDirect's rule: GET unless the value starts with `POST ` */
  readonly method: 'GET' | 'POST';
  readonly url: URL;
}

export type TokenPlacement =
  | { readonly kind: 'header'; readonly name: string; readonly scheme: boolean }
  | { readonly kind: 'query'; readonly name: string };

/** Extra token-request parameters: form pairs, or a JSON object merged into a JSON body. */
export type TokenParams =
  | { readonly kind: 'form'; readonly pairs: readonly (readonly [string, string])[] }
  | { readonly kind: 'json'; readonly object: Readonly<Record<string, unknown>> };

/**
 * A header sent upstream with every request, beside the credential: SecurityToken in the header
 * AuthHeader names (OAuth modes, None and AccessToken: tenant ids and the like), or one of the
 * Model file's `#headers`.
 */
export interface UpstreamHeader {
  readonly name: string;
  readonly value: string;
  /** where it is configured, for `check` */
  readonly from: 'SecurityToken' | 'Model file #headers';
}

/** What tokenshim took from the Model file RestConfigFile names, for `check`. */
export interface ModelFileUse {
  readonly path: string;
  /** origins of its endpoints, `#hostname` first; all may receive the DSN's credentials */
  readonly origins: readonly string[];
  /** HostName is not set: the upstream is `#hostname`, else the first origin */
  readonly givesUpstream: boolean;
  /** options the file supplied because the DSN leaves them out (TokenURI, Scope...) */
  readonly supplied: readonly string[];
  /** what the file says that a proxy cannot use, one item per kind of entry, with the reason */
  readonly ignored: readonly { readonly key: string; readonly why: string }[];
}

/**
 * One RefreshOnBody condition: the value at `path` in a JSON body (arrays on the way are looked
 * into element by element) is one of `values` (a string as is, a number or boolean as written).
 */
export interface BodyCondition {
  /** dot-separated keys, without `[]` */
  readonly path: string;
  readonly values: readonly string[];
}

export interface OutboundProxy {
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  readonly password?: string;
}

/**
 * One validated DSN. Durations are in seconds, as users write them; the token engine converts.
 * Secrets are plain strings here: mask them before printing (see `maskSecret`).
 */
export interface DsnConfig {
  readonly name: string;
  readonly source: string;
  readonly method: AuthMethod;
  /**
   * The method actually used: the same as `method`, except for 24 (OAuth2 legacy), which resolves
   * to 54, 52, 53 or 50 from the options that are set.
   */
  readonly effectiveMethod: AuthMethod;
  /**
   * The OAuth grant_type the token engine uses, set exactly when `effectiveMethod` is of kind
   * `oauth` (config/options/method.ts): `refresh_token`, `client_credentials`, `password`,
   * `authorization_code`, `urn:ietf:params:oauth:grant-type:jwt-bearer`, or any `GrantType`.
   */
  readonly grantType?: string;
  /** Upstream base URL, no trailing slash on its path (`https://api.example.com/rest/v1`). */
  readonly upstream?: URL;

  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly refreshToken?: string;
  readonly accessToken?: string;
  readonly tokenEndpoint?: TokenEndpoint;
  /** where the refresh_token grant goes, when not TokenURI (RefreshTokenURI) */
  readonly refreshTokenEndpoint?: TokenEndpoint;
  /** RFC 7009 token revocation endpoint, for `tokenshim logout` */
  readonly revokeUri?: URL;
  readonly authUri?: URL;
  readonly redirectUri?: URL;
  /** RFC 8628 device authorization endpoint, for `tokenshim login --device` */
  readonly deviceAuthUri?: URL;
  readonly scope?: string;
  readonly oauthCode?: string;
  readonly clientCredentialsMode: ClientCredentialsMode;
  readonly authHeader?: string;
  readonly authParam?: string;
  readonly securityToken?: string;
  readonly user?: string;
  readonly password?: string;
  readonly claimsIssuer?: string;
  readonly claimsSubject?: string;
  readonly jwtPrivateKeyFile?: string;
  /** DataDirect's PKCS#12 form of the method 55 key: the file, its password, which key */
  readonly jwtCertStore?: string;
  readonly jwtCertPassword?: string;
  readonly jwtCertAlias?: string;
  readonly jwtAlgorithm: string;
  readonly healthUri?: URL;

  readonly outboundProxy?: OutboundProxy;
  readonly validateServerCertificate: boolean;
  readonly trustStore?: string;
  readonly hostNameInCertificate?: string;
  readonly clientCertificate?: ClientCertificateFiles;

  readonly listenPort?: number;
  /**
   * `form` (RFC 6749), `json`, or `query` (every parameter in the query string of a POST
   * without a body, as Zoho Accounts and GitHub document their token endpoints)
   */
  readonly tokenRequestFormat: 'form' | 'json' | 'query';
  readonly tokenParams?: TokenParams;
  readonly tokenPlacement: TokenPlacement;
  /**
   * The word before the token in a header placement (`Zoho-oauthtoken`), instead of the server's
   * token_type (Zoho's APIs refuse `Bearer`).
   */
  readonly tokenScheme?: string;
  readonly refreshMarginSeconds: number;
  /** Prefetch=1: a token at serve start, kept valid with no traffic */
  readonly prefetch: boolean;
  readonly defaultTokenLifetimeSeconds: number;
  readonly refreshOnStatus: readonly number[];
  /** conditions on a 2xx JSON body that mean "token rejected" (RefreshOnBody); unset: none */
  readonly refreshOnBody?: readonly BodyCondition[];
  /** upstream statuses that mean "later": the request is sent again after the wait (RetryOnStatus) */
  readonly retryOnStatus: readonly number[];
  /** the most one request waits for retries, in seconds; 0: no retries */
  readonly maxRetryWaitSeconds: number;
  readonly tokenStore?: string;
  readonly tokenStoreKey: string;
  /**
   * Origins (`https://host:port`) the DSN's credentials may be SENT to: HostName's, AllowedHosts
   * and the Model file's; never the web pages that may CALL tokenshim.
   */
  readonly credentialOrigins: readonly string[];
  /** headers every upstream request carries beside the credential, in the order they are set */
  readonly upstreamHeaders: readonly UpstreamHeader[];
  /** the Model file RestConfigFile names, when it was read */
  readonly modelFile?: ModelFileUse;
  /**
   * AllowedOrigins: the web origins whose pages may CALL this DSN through tokenshim (the browser's
   * `Origin` header); empty by default, so no web page can.
   */
  readonly browserOrigins: readonly string[];
  readonly maxUserTokens: number;
  readonly exposeTokens: boolean;
  readonly adminKey?: string;
  /**
   * ClientKey: what every client of this DSN must present (HTTP Basic password or X-Tokenshim-Key)
   * before its request is forwarded with the DSN's credential; required with --allow-remote
   */
  readonly clientKey?: string;
  readonly interceptTls: boolean;
  readonly tunnelOtherHosts: boolean;
  readonly connectTimeoutSeconds: number;
  readonly headersTimeoutSeconds: number;
  readonly bodyTimeoutSeconds: number;
  /** the largest header block accepted from the upstream and the token endpoint, in bytes */
  readonly responseHeaderLimitBytes: number;
  readonly replayBodyLimitBytes: number;
  /** upstream URLs inside JSON bodies point back at the gateway or dedicated port (RewriteBodyUrls) */
  readonly rewriteBodyUrls: boolean;
  /** joined pages by default for this DSN's GET requests (Paging); tokenshim.* parameters win */
  readonly paging?: PagingSettings;

  /** where each option came from, by canonical name, for error messages */
  readonly origins: ReadonlyMap<string, ValueOrigin>;
  /**
   * Values that came from `${env:}`, `${file:}` or `${dpapi:}` references, whatever their option:
   * secrets wherever they would be shown (check, status, logs), see lib/config/value-references.ts.
   */
  readonly referencedSecrets?: readonly string[];
}

/** `ClientSecret=****ef`: enough to tell two secrets apart, never enough to use one. */
export function maskSecret(value: string): string {
  if (value.length < 8) return '****';
  return `****${value.slice(-2)}`;
}
