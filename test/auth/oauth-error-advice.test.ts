import t from 'tap';
import {
  isTerminalOAuthError,
  loginHelps,
  oauthErrorHint,
  terminalAdvice,
} from '../../lib/auth/oauth-error-advice.js';

t.test('RFC 6749 5.2 codes and the providers spellings of them: terminal or not', async (t) => {
  const cases: [code: string, httpStatus: number, terminal: boolean][] = [
    ['invalid_grant', 400, true],
    ['invalid_client', 401, true],
    ['unauthorized_client', 400, true],
    // Zoho and GitHub send these with HTTP 200
    ['invalid_code', 200, true],
    ['bad_refresh_token', 200, true],
    ['incorrect_client_credentials', 200, true],
    ['invalid_scope', 400, false],
    ['unsupported_grant_type', 400, false],
    ['invalid_request', 400, false],
    ['temporarily_unavailable', 400, false],
    ['a_code_nobody_documented', 400, false],
    // the server's own trouble: retried whatever the code says
    ['invalid_grant', 500, false],
    ['invalid_grant', 503, false],
    ['invalid_client', 429, false],
  ];
  for (const [code, status, terminal] of cases) {
    t.equal(isTerminalOAuthError(code, status), terminal, `${code} with HTTP ${status}`);
  }
});

t.test('the sentence ending the token endpoint message names what to check', async (t) => {
  const cases: [code: string, httpStatus: number, hint: RegExp][] = [
    ['invalid_grant', 400, /^The refresh token, code or password was refused: log in again/],
    ['invalid_client', 401, /^Check ClientID, ClientSecret and ClientCredentialsMode/],
    ['unauthorized_client', 400, /^The client may not use this grant: check AuthenticationMethod/],
    ['invalid_code', 200, /log in again \(tokenshim login\)/],
    ['bad_refresh_token', 200, /log in again \(tokenshim login\)/],
    ['incorrect_client_credentials', 200, /^Check ClientID and ClientSecret\.$/],
    ['invalid_scope', 400, /^Check Scope\.$/],
    ['unsupported_grant_type', 400, /^Check AuthenticationMethod and GrantType\.$/],
    ['invalid_request', 400, /^Check TokenURI \(POST prefix\), TokenRequestFormat and TokenParams/],
    ['a_code_nobody_documented', 400, /^Check the DSN against the provider documentation\.$/],
    ['invalid_grant', 503, /^The provider reports a problem on its side\.$/],
    ['invalid_client', 429, /^The provider reports a problem on its side\.$/],
  ];
  for (const [code, status, hint] of cases) {
    t.match(oauthErrorHint(code, status), hint, `${code} with HTTP ${status}`);
  }
});

t.test(
  'a login cures refused grants of DSNs that live on refresh tokens, never a refused client',
  async (t) => {
    const cases: [code: string | undefined, livesOnRefreshTokens: boolean, helps: boolean][] = [
      ['invalid_grant', true, true],
      ['invalid_grant', false, false],
      ['invalid_code', true, true],
      ['bad_refresh_token', true, true],
      // Atlassian answers a spent refresh token with unauthorized_client
      ['unauthorized_client', true, true],
      ['unauthorized_client', false, false],
      ['invalid_client', true, false],
      // GitHub's name for invalid_client: a login with the same wrong secret fails the same way
      ['incorrect_client_credentials', true, false],
      [undefined, true, true],
    ];
    for (const [code, refreshes, helps] of cases) {
      t.equal(loginHelps(code, refreshes), helps, `${code} (refresh tokens: ${refreshes})`);
    }
  },
);

t.test('terminal rows say whether the client or the grant was refused', async (t) => {
  t.equal(terminalAdvice('invalid_client')?.refused, 'client');
  t.equal(terminalAdvice('unauthorized_client')?.refused, 'client');
  t.equal(terminalAdvice('incorrect_client_credentials')?.refused, 'client');
  t.equal(terminalAdvice('invalid_grant')?.refused, 'grant');
  t.equal(terminalAdvice('invalid_code')?.refused, 'grant');
  t.equal(terminalAdvice('invalid_scope'), undefined, 'retryable codes have no terminal row');
  t.equal(terminalAdvice(undefined), undefined);
});
