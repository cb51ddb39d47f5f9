import t from 'tap';
import {
  ConnectionStringSyntaxError,
  formatConnectionStringValue,
  parseConnectionString,
} from '../../lib/config/connection-string.js';

const pairs = (s: string): [string, string][] =>
  parseConnectionString(s).map((p) => [p.key, p.value]);

t.test('the example from the issue: ;-separated pairs, TokenURI with a POST prefix', async (t) => {
  t.same(pairs('AuthenticationMethod=54;ClientID=abc;TokenURI=POST https://x/token;'), [
    ['AuthenticationMethod', '54'],
    ['ClientID', 'abc'],
    ['TokenURI', 'POST https://x/token'],
  ]);
});

t.test(
  'whitespace around keys and unbraced values is trimmed; empty pairs are ignored',
  async (t) => {
    t.same(pairs('  am = 54 ;; cid= abc ;'), [
      ['am', '54'],
      ['cid', 'abc'],
    ]);
    t.same(pairs(''), []);
    t.same(pairs(';'), []);
  },
);

t.test('braced values keep ; and = and turn }} into } (MS-ODBCSTR ValueFormat1)', async (t) => {
  t.same(pairs('ClientSecret={a;b=c}}d};Scope={read write}'), [
    ['ClientSecret', 'a;b=c}d'],
    ['Scope', 'read write'],
  ]);
  t.same(pairs('TokenParams={{"user_lookup":{"field":"subject","value":"{user}}"}}}}}'), [
    ['TokenParams', '{"user_lookup":{"field":"subject","value":"{user}"}}'],
  ]);
  t.same(pairs('Password={ spaced };'), [['Password', ' spaced ']]);
});

t.test('formatConnectionStringValue round-trips through the parser', async (t) => {
  for (const v of ['plain', 'a;b', 'x}y{', ' lead', '', '{"a":{"b":1}}']) {
    t.equal(pairs(`K=${formatConnectionStringValue(v)}`)[0]?.[1], v, JSON.stringify(v));
  }
});

t.test('an unbalanced { is a syntax error naming the key and position', async (t) => {
  const err = t.throws(() => parseConnectionString('ClientID=abc;ClientSecret={abc;def')) as Error;
  t.type(err, ConnectionStringSyntaxError);
  t.match(err.message, /ClientSecret opens "\{" at position 27 but never closes it/);
});

t.test('text after a closing brace, a pair without =, and an empty key are errors', async (t) => {
  t.throws(() => parseConnectionString('Scope={a}b;'), {
    message: /after the braced value of Scope/,
  });
  t.throws(() => parseConnectionString('AuthenticationMethod;ClientID=x'), {
    message: /"AuthenticationMethod" at position 1 has no "="/,
  });
  t.throws(() => parseConnectionString('=x'), { message: /empty key/ });
});

// DataDirect's "Refresh token grant" page prints this connection URL over five lines; the second
// line has no `;` after the ClientID value.
const DATADIRECT_GOOGLE_ANALYTICS = `DRIVER=DataDirect 8.0 Autonomous REST Connector;AuthenticationMethod=54;
ClientID=1234567898-a1bc2de3fgh4ij567klmn8opqr9stu.apps.googleusercontent.com
Clientsecret=FaZBFRsGXTaR;RestConfigFile=C:/path/to/googleanalytics.rest;
RefreshToken=1/abCD0F1GHijkLmNOPqrs_T2VWx3Y-Zabc45dE6FGh;
TokenURI=https://accounts.google.com/o/oauth2/token;
`;

t.test("a line break ends a value: DataDirect's printed example reads pair by pair", async (t) => {
  t.same(pairs(DATADIRECT_GOOGLE_ANALYTICS), [
    ['DRIVER', 'DataDirect 8.0 Autonomous REST Connector'],
    ['AuthenticationMethod', '54'],
    ['ClientID', '1234567898-a1bc2de3fgh4ij567klmn8opqr9stu.apps.googleusercontent.com'],
    ['Clientsecret', 'FaZBFRsGXTaR'],
    ['RestConfigFile', 'C:/path/to/googleanalytics.rest'],
    ['RefreshToken', '1/abCD0F1GHijkLmNOPqrs_T2VWx3Y-Zabc45dE6FGh'],
    ['TokenURI', 'https://accounts.google.com/o/oauth2/token'],
  ]);
  t.same(
    pairs(DATADIRECT_GOOGLE_ANALYTICS.replaceAll('\n', '\r\n')),
    pairs(DATADIRECT_GOOGLE_ANALYTICS),
    'CRLF too',
  );
});

t.test('line breaks: a braced value may span lines, and may end its line without ;', async (t) => {
  t.same(pairs('Scope={read\nwrite}\nClientID=abc'), [
    ['Scope', 'read\nwrite'],
    ['ClientID', 'abc'],
  ]);
  t.throws(() => parseConnectionString('AuthenticationMethod=54\nClientID\nScope=x'), {
    message: /"ClientID" at position 25 has no "="/,
  });
});
