/** RFC 6749 4.1.2: reading an authorization response, from the loopback redirect or pasted. */
import t from 'tap';
import {
  readAuthorizationParams,
  readPastedResponse,
} from '../../../lib/auth/login/authorization-response.js';

const STATE = 'state-of-this-login';

t.test('readAuthorizationParams (4.1.2, 10.12: state first)', async (t) => {
  const read = (query: string) => readAuthorizationParams(new URLSearchParams(query), STATE);
  t.same(read(`code=c1&state=${STATE}`), { kind: 'code', code: 'c1', stateChecked: true });
  t.match(read('code=c1&state=other'), { kind: 'ignored', reason: 'state' });
  t.match(read('code=c1'), { kind: 'ignored', reason: 'state', why: /carries no state/ });
  t.same(read(`error=access_denied&error_description=no%20thanks&state=${STATE}`), {
    kind: 'refused',
    error: 'access_denied',
    description: 'no thanks',
  });
  t.match(read('error=access_denied&state=other'), { kind: 'ignored', reason: 'state' });
  t.match(read(`state=${STATE}`), {
    kind: 'ignored',
    reason: 'unreadable',
    why: /no authorization code/,
  });
});

t.test('readPastedResponse: what a person may paste', async (t) => {
  const code = { kind: 'code', code: 'c1', stateChecked: true };
  const cases: [string, string, object][] = [
    ['the whole address', `http://127.0.0.1/callback?code=c1&state=${STATE}`, code],
    [
      'with blanks and quotes around it',
      `  "http://127.0.0.1/callback?code=c1&state=${STATE}"  `,
      code,
    ],
    ['any redirect_uri', `https://app.example.com/cb?state=${STATE}&code=c1`, code],
    ['response_mode=fragment', `http://127.0.0.1/callback#code=c1&state=${STATE}`, code],
    ['the query string alone', `?code=c1&state=${STATE}`, code],
    ['the query string without its ?', `code=c1&state=${STATE}`, code],
    ['the bare code: no state to check', 'c1', { kind: 'code', code: 'c1', stateChecked: false }],
    [
      'a bare code with = padding',
      'M.C507_BL2.2.U.abc==',
      { kind: 'code', code: 'M.C507_BL2.2.U.abc==', stateChecked: false },
    ],
    [
      'another login attempt',
      'http://127.0.0.1/callback?code=c1&state=x',
      { kind: 'ignored', reason: 'state' },
    ],
    [
      'the authorization URL instead of the redirect',
      `https://login.example.com/authorize?client_id=a&state=${STATE}&redirect_uri=x`,
      { kind: 'ignored', reason: 'unreadable', why: /carries no code/ },
    ],
    [
      'a refusal',
      `http://127.0.0.1/callback?error=access_denied&state=${STATE}`,
      { kind: 'refused', error: 'access_denied' },
    ],
    ['a sentence', 'it did not work', { kind: 'ignored', reason: 'unreadable', why: /spaces/ }],
    ['an empty line', '   ', { kind: 'ignored', reason: 'unreadable' }],
    ['a broken address', 'http://[::1/callback?code=c1', { kind: 'ignored', reason: 'unreadable' }],
  ];
  for (const [what, pasted, expected] of cases) {
    t.match(readPastedResponse(pasted, STATE), expected, what);
  }
});
