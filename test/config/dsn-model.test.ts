/** RestConfigFile (or Config) naming a DataDirect Model file, as a DSN loads it. */
import t, { type Test } from 'tap';
import { loadConfig } from '../../lib/config/load.js';
import type { ConfigProblem } from '../../lib/config/problems.js';
import { tempDir } from '../fixtures/temp-config.js';

const MODEL = `// two hosts, headers, OAuth entries
{
  "#hostname": "https://api.example.com/rest/v1",
  "#headers": { "Accept": "application/json", "X-Api-Version": 2 },
  "#options": { "tokenURI": "POST /identity/oauth/token", "scope": "read write", "logoffURI": "/logout" },
  "#http": [{"#code": 401, "#action": "REAUTHENTICATE"}],
  "leads": "/leads.json",
  "files": "https://files.example.com/v1/files"
}`;

async function load(t: Test, ini: string, files: Record<string, string> = {}) {
  const { dir, write } = tempDir(t);
  for (const [name, text] of Object.entries(files)) write(name, text);
  const path = write('odbc.ini', ini);
  const loaded = await loadConfig({ configPath: path, env: {}, cwd: dir, home: dir });
  return { dir, path, ...loaded };
}
const errors = (problems: ConfigProblem[]) => problems.filter((p) => p.severity === 'error');

t.test(
  'without HostName: #hostname is the upstream, the other origins AllowedHosts, #headers go upstream',
  async (t) => {
    const { dir, dsns, problems } = await load(
      t,
      '[m]\nAuthenticationMethod=53\nClientID=c\nClientSecret=s3cret-value\nRestConfigFile=api.rest\n',
      { 'api.rest': MODEL },
    );
    t.same(errors(problems), []);
    const d = dsns[0]!;
    t.equal(d.upstream?.href, 'https://api.example.com/rest/v1');
    t.same(d.credentialOrigins, ['https://api.example.com', 'https://files.example.com']);
    t.same(d.upstreamHeaders, [
      { name: 'Accept', value: 'application/json', from: 'Model file #headers' },
      { name: 'X-Api-Version', value: '2', from: 'Model file #headers' },
    ]);
    t.equal(d.tokenEndpoint?.method, 'POST', "the Model file's tokenURI, with its POST prefix");
    t.equal(
      d.tokenEndpoint?.url.href,
      'https://api.example.com/identity/oauth/token',
      'relative to #hostname',
    );
    t.equal(d.scope, 'read write');
    t.match(d.modelFile, {
      path: `${dir}/api.rest`,
      origins: ['https://api.example.com', 'https://files.example.com'],
      givesUpstream: true,
      supplied: ['TokenURI', 'Scope'],
    });
    t.match(d.modelFile?.ignored, [
      { key: '#http', why: /RefreshOnStatus/ },
      { key: 'tables', why: /2 table definition/ },
      { key: '#options.logoffuri', why: /DataDirect driver setting/ },
    ]);
    t.equal(d.origins.get('TokenURI')?.source, `${dir}/api.rest`, 'errors about it name the file');
  },
);

t.test('the DSN wins over the Model file; Config is the same option (JDBC name)', async (t) => {
  const { dsns, problems } = await load(
    t,
    '[m]\nAuthenticationMethod=53\nClientID=c\nClientSecret=s\nTokenURI=POST https://login.example.com/t\nScope=mine\nConfig=api.rest\n',
    { 'api.rest': MODEL },
  );
  t.same(errors(problems), []);
  t.equal(dsns[0]?.tokenEndpoint?.url.href, 'https://login.example.com/t');
  t.equal(dsns[0]?.scope, 'mine');
  t.same(dsns[0]?.modelFile?.supplied, []);
});

t.test(
  'without #hostname, the first endpoint origin is the upstream (origin only), the rest AllowedHosts',
  async (t) => {
    const { dsns, problems } = await load(t, '[m]\nRestConfigFile=ga.rest\n', {
      'ga.rest': JSON.stringify({
        reports: 'POST https://analyticsreporting.googleapis.com/v4/reports:batchGet /reports',
        accounts: 'https://www.googleapis.com/analytics/v3/management/accounts /items',
      }),
    });
    t.same(problems, []);
    t.equal(dsns[0]?.upstream?.href, 'https://analyticsreporting.googleapis.com/');
    t.same(dsns[0]?.credentialOrigins, [
      'https://analyticsreporting.googleapis.com',
      'https://www.googleapis.com',
    ]);
  },
);

t.test(
  'with HostName, the Model file adds its headers and origins; HostName stays the upstream',
  async (t) => {
    const { dsns, problems } = await load(
      t,
      '[m]\nHostName=https://other.example.com\nAllowedHosts=https://cdn.example.com\nRestConfigFile=api.rest\n',
      { 'api.rest': MODEL },
    );
    t.same(errors(problems), []);
    t.equal(dsns[0]?.upstream?.href, 'https://other.example.com/');
    t.same(dsns[0]?.credentialOrigins, [
      'https://other.example.com',
      'https://cdn.example.com',
      'https://api.example.com',
      'https://files.example.com',
    ]);
    t.equal(dsns[0]?.modelFile?.givesUpstream, false);
    t.equal(dsns[0]?.upstreamHeaders.length, 2);
  },
);

t.test(
  'a Model file that cannot be used: the exact problem, an error only without HostName',
  async (t) => {
    const missing = await load(t, '[m]\nRestConfigFile=C:/path/to/googleanalytics.rest\n');
    const where = `${missing.dir}/C:/path/to/googleanalytics.rest`;
    t.same(missing.dsns, []);
    t.same(missing.problems, [
      {
        severity: 'error',
        source: where,
        dsn: 'm',
        message:
          'RestConfigFile (RestConfigFile=C:/path/to/googleanalytics.rest): the Model file cannot be read (ENOENT)',
        fix: 'check the RestConfigFile path (on this machine), or set HostName instead',
      },
      {
        severity: 'error',
        source: missing.path,
        line: 2,
        dsn: 'm',
        key: 'RestConfigFile',
        message:
          'HostName is missing and the Model file cannot be read (see above), so tokenshim does not know where to forward requests',
        fix: 'fix the RestConfigFile path, or add HostName=https://api.example.com to [m]',
      },
    ]);

    const withHost = await load(t, '[m]\nHostName=https://api.example.com\nrcf=broken.rest\n', {
      'broken.rest': '{"a": ',
    });
    t.equal(withHost.dsns.length, 1, 'HostName still says where requests go');
    t.match(withHost.problems, [
      {
        severity: 'warning',
        source: `${withHost.dir}/broken.rest`,
        line: 1,
        dsn: 'm',
        message:
          'RestConfigFile (rcf=broken.rest): the Model file is not valid JSON (ValueExpected)',
        fix: /until then its #headers are not sent$/,
      },
    ]);

    const relative = await load(t, '[m]\nRestConfigFile=rel.rest\n', {
      'rel.rest': '{"leads": "/rest/v1/leads.json"}',
    });
    t.same(relative.dsns, []);
    t.same(errors(relative.problems), [
      {
        severity: 'error',
        source: relative.path,
        line: 2,
        dsn: 'm',
        key: 'RestConfigFile',
        message:
          'HostName is missing and the Model file names no host: its endpoints are paths relative to HostName',
        fix: "add HostName=https://api.example.com (the host the Model file's paths belong to) to [m]",
      },
    ]);
  },
);

t.test(
  "a Model file's #hostname with a user name and password: refused, not dropped nor printed",
  async (t) => {
    const { path, dsns, problems } = await load(t, '[m]\nRestConfigFile=u.rest\n', {
      'u.rest': '{"#hostname": "https://svc:model-pw-4711@api.example.com/v1", "a": "/a"}',
    });
    t.same(dsns, []);
    t.same(errors(problems), [
      {
        severity: 'error',
        source: path,
        line: 2,
        dsn: 'm',
        key: 'RestConfigFile',
        message:
          'RestConfigFile carries a user name or password (https://user:****@host), which tokenshim would not send',
        fix: 'remove "user:password@" from RestConfigFile; for HTTP Basic set AuthenticationMethod=0 with User and Password',
      },
    ]);
    t.notMatch(JSON.stringify(problems), /model-pw-4711/);
  },
);

t.test(
  'a Model file header the credential carries is not sent, and the warning says so',
  async (t) => {
    const { path, dsns, problems } = await load(
      t,
      '[m]\nAuthenticationMethod=50\nAccessToken=at-value\nHostName=https://api.example.com\nRestConfigFile=h.rest\n',
      { 'h.rest': '{"#headers": {"authorization": "Basic abc", "Accept": "application/json"}}' },
    );
    t.same(problems, [
      {
        severity: 'warning',
        source: path,
        line: 5,
        dsn: 'm',
        key: 'RestConfigFile',
        message:
          "the Model file's #headers set authorization, which carries the credential: its value there is not sent",
        fix: "remove authorization from the Model file's #headers",
      },
    ]);
    t.same(dsns[0]?.upstreamHeaders, [
      { name: 'Accept', value: 'application/json', from: 'Model file #headers' },
    ]);
  },
);
