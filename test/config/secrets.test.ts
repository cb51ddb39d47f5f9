import t from 'tap';
import { describeDsn } from '../../lib/cli/describe-dsn.js';
import { OPTIONS } from '../../lib/config/catalogue.js';
import type { ConfigProblem } from '../../lib/config/problems.js';
import { collectDsn, resolveDsn } from '../../lib/config/resolve.js';
import { secretOptionsOf, secretsOf } from '../../lib/config/secrets.js';

const SECRET_OPTIONS = OPTIONS.filter((o) => o.type === 'secret').map((o) => o.name);

/** A DSN with every secret option set to a value that names it, and a few plain options. */
function dsnWithEverySecret() {
  const entries = Object.entries({
    AuthenticationMethod: '54',
    ClientID: 'plain-client-id',
    TokenURI: 'POST https://login.example.com/token',
    HostName: 'https://api.example.com',
    ProxyHost: 'proxy.example.com',
    ProxyUser: 'plain-proxy-user',
    AuthHeader: 'X-Tenant',
    ExposeTokens: '1',
    ClientCertificate: 'plain-client.pem',
    ...Object.fromEntries(SECRET_OPTIONS.map((name) => [name, `secret-value-of-${name}`])),
  }).map(([key, value]) => ({ key, value, origin: { source: 'test', key } }));
  const problems: ConfigProblem[] = [];
  const dsn = resolveDsn(collectDsn('s', 'test', undefined, entries, problems), problems);
  if (!dsn) throw new Error(JSON.stringify(problems));
  return dsn;
}

t.test('the secret options are the catalogue entries of type secret', async (t) => {
  t.same(SECRET_OPTIONS, [
    'ClientSecret',
    'RefreshToken',
    'AccessToken',
    'OAuthCode',
    'SecurityToken',
    'Password',
    'JWTCertPassword',
    'ProxyPassword',
    'ClientCertificatePassword',
    'AdminKey',
    'ClientKey',
  ]);
});

t.test('secretsOf finds the value of every secret option, and nothing else', async (t) => {
  const dsn = dsnWithEverySecret();
  t.same(
    secretOptionsOf(dsn),
    SECRET_OPTIONS.map((option) => ({ option, value: `secret-value-of-${option}` })),
  );
  t.same(
    secretsOf(dsn),
    SECRET_OPTIONS.map((option) => `secret-value-of-${option}`),
  );
  t.notMatch(secretsOf(dsn).join(' '), /plain-/);
});

t.test('a DSN without secrets has none', async (t) => {
  const problems: ConfigProblem[] = [];
  const entries = [
    { key: 'HostName', value: 'https://a.example', origin: { source: 'test', key: 'HostName' } },
  ];
  const dsn = resolveDsn(collectDsn('n', 'test', undefined, entries, problems), problems)!;
  t.same(secretsOf(dsn), []);
});

t.test('check shows every secret masked, never whole', async (t) => {
  const text = describeDsn(dsnWithEverySecret()).join('\n');
  for (const name of SECRET_OPTIONS) t.match(text, `${name}=****${name.slice(-2)}`);
  t.notMatch(text, /secret-value-of/);
});
