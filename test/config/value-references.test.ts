import t from 'tap';
import { describeDsn } from '../../lib/cli/describe-dsn.js';
import { loadConfig } from '../../lib/config/load.js';
import { formatProblem, type ConfigProblem } from '../../lib/config/problems.js';
import { openDpapi } from '../../lib/platform/dpapi.js';
import { secretsOf } from '../../lib/config/secrets.js';
import { fakeDpapi } from '../fixtures/fake-dpapi.js';
import { tempDir } from '../fixtures/temp-config.js';

const errors = (problems: ConfigProblem[]) => problems.filter((p) => p.severity === 'error');

const DSN = (lines: string) => `[crm]
AuthenticationMethod=53
ClientID=abc
TokenURI=POST https://login.example.com/token
${lines}
`;

t.test('${env:NAME} and ${file:PATH} (relative to the config file) fill any value', async (t) => {
  const { write } = tempDir(t);
  write('secret.txt', 'from-a-file-123\r\n');
  const path = write(
    'odbc.ini',
    DSN(
      'ClientSecret=${file:secret.txt}\nHostName=https://${env:CRM_HOST}/v1\nScope=$${not a ref}',
    ),
  );
  const loaded = await loadConfig({
    configPath: path,
    env: { CRM_HOST: 'api.crm.example' },
    cwd: '/',
  });
  t.same(errors(loaded.problems), []);
  const d = loaded.dsns[0]!;
  t.equal(d.clientSecret, 'from-a-file-123', 'the final line break is not part of the value');
  t.equal(d.upstream?.href, 'https://api.crm.example/v1');
  t.equal(d.scope, '${not a ref}', '$${ is a literal ${');
  t.same(d.origins.get('ClientSecret'), {
    source: path,
    line: 5,
    key: 'ClientSecret',
    reference: '${file:secret.txt}',
  });
  t.equal(d.origins.get('HostName')?.reference, 'https://${env:CRM_HOST}/v1');
  t.equal(d.origins.get('ClientID')?.reference, undefined, 'plain values carry no reference');
  t.same([...(d.referencedSecrets ?? [])].sort(), [
    'api.crm.example',
    'from-a-file-123',
    'https://api.crm.example/v1',
  ]);
});

t.test('a value from a reference is masked wherever the DSN is shown', async (t) => {
  const { dir, write } = tempDir(t);
  const path = write('odbc.ini', DSN('ClientSecret=${env:CRM_SECRET}\nHostName=${env:CRM_URL}'));
  const loaded = await loadConfig({
    configPath: path,
    env: { CRM_SECRET: 'env-secret-value', CRM_URL: 'https://tenant-4711.crm.example' },
    cwd: dir,
  });
  const d = loaded.dsns[0]!;
  const shown = describeDsn(d).join('\n');
  t.notMatch(shown, /tenant-4711/, 'check does not print the referenced HostName');
  t.notMatch(shown, /env-secret-value/);
  t.match(shown, /upstream: {4}\[redacted\]/);
  t.ok(secretsOf(d).includes('https://tenant-4711.crm.example'), 'status and errors redact it');
});

t.test('${dpapi:...} values decrypt through DPAPI on Windows', async (t) => {
  const fake = fakeDpapi();
  const blob = (await openDpapi('CurrentUser', fake)).protect(Buffer.from('dpapi-secret-1'));
  const { dir, write } = tempDir(t);
  const path = write(
    'odbc.ini',
    DSN(`ClientSecret=\${dpapi:${blob.toString('base64')}}\nHostName=https://a.example`),
  );
  const loaded = await loadConfig({ configPath: path, env: {}, cwd: dir, dpapi: fake });
  t.same(errors(loaded.problems), []);
  t.equal(loaded.dsns[0]?.clientSecret, 'dpapi-secret-1');

  const other = await loadConfig({
    configPath: path,
    env: {},
    cwd: dir,
    dpapi: fakeDpapi('other'),
  });
  t.match(errors(other.problems), [
    {
      line: 5,
      dsn: 'crm',
      key: 'ClientSecret',
      message: /cannot be decrypted by this account on this machine/,
      fix: /run tokenshim protect on this machine as the account tokenshim runs as/,
    },
  ]);
  const linux = await loadConfig({
    configPath: path,
    env: {},
    cwd: dir,
    dpapi: { platform: 'linux' },
  });
  t.match(errors(linux.problems), [{ key: 'ClientSecret', message: /only on Windows/ }]);
});

t.test('every bad reference is an error naming the DSN, line, option and what to do', async (t) => {
  const { dir, write } = tempDir(t);
  const path = write(
    'odbc.ini',
    DSN(
      [
        'ClientSecret=${env:MISSING_SECRET}',
        'RefreshToken=${file:nowhere.txt}',
        'Password=${vault:x}',
        'User=${env:OPEN',
        'AccessToken=${dpapi:not base64!}',
        'SecurityToken=${env:}',
        'HostName=https://a.example',
      ].join('\n'),
    ),
  );
  const loaded = await loadConfig({ configPath: path, env: {}, cwd: dir, dpapi: fakeDpapi() });
  t.match(errors(loaded.problems), [
    {
      source: path,
      line: 5,
      dsn: 'crm',
      key: 'ClientSecret',
      message: 'ClientSecret: the environment variable MISSING_SECRET is not set',
      fix: /set MISSING_SECRET/,
    },
    { line: 6, key: 'RefreshToken', message: /the file .*nowhere\.txt cannot be read \(ENOENT\)/ },
    {
      line: 7,
      key: 'Password',
      message: /"\$\{vault:" is not a reference/,
      fix: /\$\$\{ for a literal/,
    },
    { line: 8, key: 'User', message: /has no closing \}/ },
    { line: 9, key: 'AccessToken', message: /not the base64 text tokenshim protect prints/ },
    { line: 10, key: 'SecurityToken', message: /names nothing/ },
  ]);
  t.equal(
    errors(loaded.problems).filter((p) => p.line !== undefined && p.line >= 5).length,
    6,
    'one error per bad value (the DSN then misses ClientSecret, which is said too)',
  );
  t.match(formatProblem(errors(loaded.problems)[0]!), /odbc\.ini:5: error: \[crm\] ClientSecret: /);
});

t.test('connection strings take references too', async (t) => {
  const loaded = await loadConfig({
    connect: 'AuthenticationMethod=34;SecurityToken=${env:TOKEN};HostName=https://a.example',
    env: { TOKEN: 'tok-from-env' },
  });
  t.same(errors(loaded.problems), []);
  t.equal(loaded.dsns[0]?.securityToken, 'tok-from-env');
  t.same(loaded.dsns[0]?.referencedSecrets, ['tok-from-env']);
});
