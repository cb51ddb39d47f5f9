/**
 * What tokenshim makes of each OAuth error code a token endpoint answers with (RFC 6749 5.2, and
 * providers' own spellings of it), in one table: the token endpoint's error message
 * (token-endpoint.ts) and the "needs login" verdict of the token lifecycle (token/token-failure.ts)
 * both read it, so a code is explained, and judged terminal or not, in one place.
 */

interface RetryableAdvice {
  /** what to check, as the sentence that ends the token endpoint's error message */
  readonly hint: string;
  readonly terminal: false;
}

export interface TerminalAdvice {
  readonly hint: string;
  /** no retry can fix it: the DSN stops asking until a person logs in or fixes the config */
  readonly terminal: true;
  /**
   * What the server refused: the `client` (its id, secret or rights; the hint names the options
   * to check) or the `grant` (a refresh token, code or password).
   */
  readonly refused: 'client' | 'grant';
  /** a new refresh token (`tokenshim login`) cures it, for a DSN that lives on refresh tokens */
  readonly loginCures: boolean;
}

type OAuthErrorAdvice = RetryableAdvice | TerminalAdvice;

const GRANT_REFUSED: TerminalAdvice = {
  hint: 'The refresh token, code or password was refused: log in again (tokenshim login) or paste a new RefreshToken.',
  terminal: true,
  refused: 'grant',
  loginCures: true,
};

const CLIENT_REFUSED: TerminalAdvice = {
  hint: 'Check ClientID, ClientSecret and ClientCredentialsMode (how the secret is sent), or the ClientCertificate registered for the client.',
  terminal: true,
  refused: 'client',
  loginCures: false,
};

const ADVICE: ReadonlyMap<string, OAuthErrorAdvice> = new Map<string, OAuthErrorAdvice>([
  ['invalid_grant', GRANT_REFUSED],
  ['invalid_client', CLIENT_REFUSED],
  [
    'unauthorized_client',
    {
      hint: 'The client may not use this grant: check AuthenticationMethod and GrantType, or the client settings at the provider.',
      terminal: true,
      refused: 'client',
      // Atlassian answers a spent refresh token with unauthorized_client: a login cures that
      loginCures: true,
    },
  ],
  // Providers' own names for the codes above, sent with HTTP 200: Zoho's revoked refresh token,
  // GitHub's spent refresh token and GitHub's wrong client credentials.
  ['invalid_code', GRANT_REFUSED],
  ['bad_refresh_token', GRANT_REFUSED],
  ['incorrect_client_credentials', { ...CLIENT_REFUSED, hint: 'Check ClientID and ClientSecret.' }],
  ['invalid_scope', { hint: 'Check Scope.', terminal: false }],
  [
    'unsupported_grant_type',
    { hint: 'Check AuthenticationMethod and GrantType.', terminal: false },
  ],
  [
    'invalid_request',
    { hint: 'Check TokenURI (POST prefix), TokenRequestFormat and TokenParams.', terminal: false },
  ],
]);

const UNKNOWN: RetryableAdvice = {
  hint: 'Check the DSN against the provider documentation.',
  terminal: false,
};

const PROVIDER_TROUBLE = 'The provider reports a problem on its side.';

/** A 5xx or 429 is the server's own trouble, whatever error code it names. */
function serverTrouble(httpStatus: number): boolean {
  return httpStatus >= 500 || httpStatus === 429;
}

/** The sentence that ends the token endpoint's error message for `code` sent with `httpStatus`. */
export function oauthErrorHint(code: string, httpStatus: number): string {
  return serverTrouble(httpStatus) ? PROVIDER_TROUBLE : (ADVICE.get(code) ?? UNKNOWN).hint;
}

/** True when no retry can fix `code` sent with `httpStatus`. */
export function isTerminalOAuthError(code: string, httpStatus: number): boolean {
  return ADVICE.get(code)?.terminal === true && !serverTrouble(httpStatus);
}

/** The table's row for a terminal `code`; undefined for retryable and unknown codes. */
export function terminalAdvice(code: string | undefined): TerminalAdvice | undefined {
  const advice = code === undefined ? undefined : ADVICE.get(code);
  return advice?.terminal === true ? advice : undefined;
}

/**
 * Whether `tokenshim login` cures a terminal refusal with `code`. Only DSNs that live on refresh
 * tokens (refresh_token, authorization_code grants) can be logged in again; a code outside the
 * table counts as a refused grant.
 */
export function loginHelps(code: string | undefined, livesOnRefreshTokens: boolean): boolean {
  return livesOnRefreshTokens && (terminalAdvice(code)?.loginCures ?? true);
}
