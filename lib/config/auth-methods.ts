/**
 * DataDirect's AuthenticationMethod values (ODBC numbers and JDBC names), and what tokenshim does
 * with each. Source: ../shared/reference/datadirect-and-qlik.md §1.
 */

export type MethodKind =
  /** forward only (static headers still apply) */
  | 'none'
  /** a credential known at startup, attached as is */
  | 'static'
  /** a token obtained from TokenURI and refreshed */
  | 'oauth'
  /** named by DataDirect, not implemented by tokenshim yet */
  | 'unsupported';

export interface AuthMethod {
  readonly code: number;
  readonly name: string;
  readonly kind: MethodKind;
  /** the OAuth grant_type a method of kind `oauth` runs (GrantType= overrides it) */
  readonly grantType?: string;
  readonly summary: string;
}

export const AUTH_METHODS: readonly AuthMethod[] = Object.freeze([
  { code: 15, name: 'None', kind: 'none', summary: 'forward only' },
  { code: 0, name: 'Basic', kind: 'static', summary: 'User/Password as HTTP Basic' },
  { code: 34, name: 'BearerToken', kind: 'static', summary: 'SecurityToken as a Bearer token' },
  { code: 25, name: 'HttpHeader', kind: 'static', summary: 'SecurityToken in header AuthHeader' },
  {
    code: 14,
    name: 'UrlParameter',
    kind: 'static',
    summary: 'SecurityToken as query parameter AuthParam',
  },
  { code: 50, name: 'OAuth2-AccessToken', kind: 'static', summary: 'static AccessToken' },
  {
    code: 51,
    name: 'OAuth2-AuthorizationCode',
    kind: 'oauth',
    grantType: 'authorization_code',
    summary: 'exchange OAuthCode once, then refresh',
  },
  {
    code: 56,
    name: 'OAuth2-PKCE',
    kind: 'oauth',
    grantType: 'refresh_token',
    summary: 'tokenshim login, then refresh',
  },
  {
    code: 52,
    name: 'OAuth2-Password',
    kind: 'oauth',
    grantType: 'password',
    summary: 'password grant',
  },
  {
    code: 53,
    name: 'OAuth2-ClientCredentials',
    kind: 'oauth',
    grantType: 'client_credentials',
    summary: 'client_credentials grant',
  },
  {
    code: 54,
    name: 'OAuth2-RefreshToken',
    kind: 'oauth',
    grantType: 'refresh_token',
    summary: 'refresh_token grant',
  },
  {
    code: 55,
    name: 'OAuth2-JWTBearer',
    kind: 'oauth',
    // RFC 7523 section 2.1
    grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    summary: 'RFC 7523 JWT bearer grant',
  },
  // no grantType: resolved to 54, 52, 53 or 50 from the options that are set (options/method.ts)
  { code: 24, name: 'OAuth2', kind: 'oauth', summary: 'legacy: grant chosen from what is set' },
  { code: 30, name: 'Digest', kind: 'unsupported', summary: 'HTTP Digest' },
  { code: 43, name: 'AWS', kind: 'unsupported', summary: 'AWS signatures' },
  { code: 29, name: 'Custom', kind: 'unsupported', summary: 'Model-file custom authentication' },
]);

const BY_CODE = new Map(AUTH_METHODS.map((m) => [String(m.code), m]));
const BY_NAME = new Map(AUTH_METHODS.map((m) => [m.name.toLowerCase(), m]));
// Older DataDirect docs and the JDBC driver spell a few names differently.
BY_NAME.set('urlparameter', BY_CODE.get('14')!);
BY_NAME.set('httpheader', BY_CODE.get('25')!);
BY_NAME.set('oauth2-clientcredential', BY_CODE.get('53')!);
BY_NAME.set('bearer', BY_CODE.get('34')!);

/** Accepts `54`, `OAuth2-RefreshToken`, `oauth2-refreshtoken`; undefined when unknown. */
export function lookupAuthMethod(value: string): AuthMethod | undefined {
  const v = value.trim().toLowerCase();
  return BY_CODE.get(v) ?? BY_NAME.get(v);
}
