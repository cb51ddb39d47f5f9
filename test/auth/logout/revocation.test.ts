/** RFC 7009 2.2: reading the revocation endpoint's answer, without sockets. */
import t from 'tap';
import { readRevocationAnswer } from '../../../lib/auth/logout/revocation.js';
import type { LogoutError } from '../../../lib/errors.js';

const ctx = {
  dsn: 'crm',
  endpoint: new URL('https://login.example.com/oauth/revoke?tenant=x'),
  hint: 'refresh_token' as const,
  secrets: ['refresh-token-value-123'],
};
const answer = (status: number, body: unknown) => ({
  status,
  headers: {},
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

t.test('2.2: 200 is revoked, whatever the body (an unknown token included)', async (t) => {
  t.equal(readRevocationAnswer(answer(200, ''), ctx), 'revoked');
  t.equal(readRevocationAnswer(answer(200, '{"ok":true}'), ctx), 'revoked');
});

t.test('2.2.1: unsupported_token_type is not a failure', async (t) => {
  t.equal(
    readRevocationAnswer(answer(400, { error: 'unsupported_token_type' }), {
      ...ctx,
      hint: 'access_token',
    }),
    'unsupported',
  );
});

t.test('anything else is a LogoutError quoting the server, with what to do', async (t) => {
  const cases: [string, ReturnType<typeof answer>, RegExp][] = [
    [
      'a refused client',
      answer(401, { error: 'invalid_client', error_description: 'bad refresh-token-value-123' }),
      /^DSN "crm": RevokeURI \(POST https:\/\/login\.example\.com\/oauth\/revoke\) did not revoke the refresh token: it answered 401 invalid_client \("bad \[redacted\]"\)\. Check ClientID/,
    ],
    [
      '2.2.1: 503, try later',
      answer(503, 'Service Unavailable'),
      /answered HTTP 503\. The provider reports a problem on its side: run tokenshim logout again later\./,
    ],
    [
      'a page that is no revocation endpoint',
      answer(404, '<html>Not Found</html>'),
      /answered HTTP 404\. Check that RevokeURI is the provider's revocation endpoint\./,
    ],
  ];
  for (const [what, res, message] of cases) {
    let error: LogoutError | undefined;
    try {
      readRevocationAnswer(res, ctx);
    } catch (e) {
      error = e as LogoutError;
    }
    t.match(error, { code: 'TOKENSHIM_LOGOUT', message }, what);
    t.notMatch(error?.message, 'refresh-token-value-123', `${what}: no token in the message`);
  }
});
