import t, { type Test } from 'tap';
import { loadConfig, locateConfig } from '../../lib/config/load.js';
import { formatProblem, type ConfigProblem } from '../../lib/config/problems.js';
import { tempDir } from '../fixtures/temp-config.js';

const REFRESH_DSN = `[crm]
AuthenticationMethod=54
ClientID=abc
ClientSecret=s3cr3t-value
RefreshToken=rt-value-123
TokenURI=POST https://login.example.com/token
HostName=https://api.example.com/v1/
`;

async function load(t: Test, text: string | Buffer) {
  const { dir, write } = tempDir(t);
  const path = write('odbc.ini', text);
  return { path, ...(await loadConfig({ configPath: path, env: {}, cwd: dir, home: dir })) };
}
const errors = (problems: ConfigProblem[]) => problems.filter((p) => p.severity === 'error');

t.test('a refresh-token DSN resolves to a typed config', async (t) => {
  const { dsns, problems } = await load(t, REFRESH_DSN);
  t.same(errors(problems), []);
  const d = dsns[0]!;
  t.equal(d.name, 'crm');
  t.equal(d.method.code, 54);
  t.equal(d.grantType, 'refresh_token');
  t.equal(d.tokenEndpoint?.method, 'POST');
  t.equal(d.tokenEndpoint?.url.href, 'https://login.example.com/token');
  t.equal(d.upstream?.href, 'https://api.example.com/v1', 'trailing slash dropped');
  t.equal(d.clientSecret, 's3cr3t-value');
  t.equal(d.clientCredentialsMode, 0);
  t.same(d.refreshOnStatus, [401]);
  t.same(d.credentialOrigins, ['https://api.example.com']);
  t.equal(d.origins.get('ClientID')?.line, 3);
});

t.test('keys are case-insensitive, short names work, methods by number or name', async (t) => {
  for (const am of ['54', 'OAuth2-RefreshToken', 'oauth2-refreshtoken', '54;']) {
    const { dsns, problems } = await load(
      t,
      `[d]\nam=${am}\nCID=abc\nrefreshtoken=r\no2tu=https://x/token\nhost=api.example.com\n`,
    );
    t.same(errors(problems), [], am);
    t.equal(dsns[0]?.method.code, 54, am);
    t.equal(dsns[0]?.clientId, 'abc');
    t.equal(dsns[0]?.tokenEndpoint?.method, 'GET', 'GET without a prefix (DataDirect default)');
    t.equal(dsns[0]?.upstream?.href, 'https://api.example.com/', 'a bare host means https');
  }
});

t.test(
  'HostName: bare host with PortNumber=80 means http; PortNumber fills a missing port',
  async (t) => {
    const { dsns } = await load(
      t,
      '[d]\nHostName=api.example.com\nPortNumber=80\n[e]\nHostName=https://api.example.com\nPortNumber=8443\n',
    );
    t.equal(dsns[0]?.upstream?.href, 'http://api.example.com/');
    t.equal(dsns[1]?.upstream?.href, 'https://api.example.com:8443/');
  },
);

t.test('without HostName, the origin of RestSamplePath is the upstream', async (t) => {
  const { dsns, problems } = await load(
    t,
    "[d]\nRestSamplePath='https://api.example.com/v2/items?x=1'\n",
  );
  t.same(errors(problems), []);
  t.equal(dsns[0]?.upstream?.href, 'https://api.example.com/');
});

t.test('ODBC sections and Driver/Description are accepted and ignored', async (t) => {
  const { dsns, problems } = await load(
    t,
    '[ODBC Data Sources]\nd=DataDirect\n[ODBC]\nInstallDir=/opt\n[ODBC File DSN]\nDefaultDSNDir=/x\n[d]\nDriver=/opt/lib/ivautorest.so\nDescription=x\nHostName=https://a.example\n',
  );
  t.same(problems, []);
  t.same(
    dsns.map((d) => d.name),
    ['d'],
  );
});

t.test('legacy 24 picks the grant from what is set', async (t) => {
  const base = 'AuthenticationMethod=24\nTokenURI=POST https://x/t\nHostName=https://a.example\n';
  const cases: [string, number, string | undefined][] = [
    ['RefreshToken=r\nClientID=c\nUser=u\nPassword=p\n', 54, 'refresh_token'],
    ['User=u\nPassword=p\nClientID=c\nClientSecret=s\n', 52, 'password'],
    ['ClientID=c\nClientSecret=s\n', 53, 'client_credentials'],
    ['AccessToken=a\n', 50, undefined],
  ];
  for (const [extra, code, grant] of cases) {
    const { dsns, problems } = await load(t, `[d]\n${base}${extra}`);
    t.same(errors(problems), [], extra);
    t.equal(dsns[0]?.method.code, 24);
    t.equal(dsns[0]?.effectiveMethod.code, code, extra);
    t.equal(dsns[0]?.grantType, grant, extra);
  }
});

t.test(
  'every problem of every DSN is reported at once, with file, line, DSN, key and fix',
  async (t) => {
    const { path, dsns, problems } = await load(
      t,
      `[a]
AuthenticationMethod=54
ClientID=x
HostName=https://a.example
[b]
AuthenticationMethod=53
ClientID=x
ClientSecert=oops
ClientSecret=y
TokenURI=POST https://x/t
ClientCredentialsMode=7
HostName=https://b.example
[c]
AuthenticationMethod=30
HostName=https://c.example
[d]
AuthenticationMethod=15
`,
    );
    t.same(dsns, []);
    const text = problems.map(formatProblem);
    t.match(
      text.join('\n'),
      `${path}:1: error: [a]: TokenURI is missing; AuthenticationMethod=54 (OAuth2-RefreshToken) needs it`,
    );
    t.ok(
      text.some((l) =>
        l.startsWith(
          `${path}:8: warning: [b] ClientSecert: unknown option "ClientSecert" is ignored Fix: did you mean ClientSecret?`,
        ),
      ),
      'did you mean',
    );
    t.ok(
      text.some((l) =>
        l.startsWith(
          `${path}:11: error: [b] ClientCredentialsMode: ClientCredentialsMode=7 is not 0, 1, 2, 3, tls_client_auth or self_signed_tls_client_auth`,
        ),
      ),
    );
    t.ok(
      text.some((l) =>
        l.startsWith(
          `${path}:14: error: [c] AuthenticationMethod: AuthenticationMethod=30 (Digest) is not supported by tokenshim yet`,
        ),
      ),
    );
    t.ok(text.some((l) => l.startsWith(`${path}:16: error: [d] HostName: HostName is missing`)));
  },
);

t.test('bad files and bad DSNs, each with its error', async (t) => {
  const cases: [string, string | Buffer, RegExp][] = [
    ['empty file', '', /the config file is empty/],
    ['binary file', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0, 1, 2]), /not a text file/],
    ['section with no keys', '[empty]\n', /\[empty\]: this DSN has no options/],
    [
      'duplicated key',
      '[d]\nHostName=https://a.example\nClientID=a\nClientID=b\n',
      /:4: error: \[d\] ClientID: ClientID is set twice: as ClientID \(line 3\) and as ClientID/,
    ],
    [
      'long and short name',
      '[d]\nHostName=https://a.example\nClientID=a\ncid=b\n',
      /ClientID is set twice: as ClientID \(line 3\) and as cid/,
    ],
    [
      'non-numeric PortNumber',
      '[d]\nHostName=a.example\nPortNumber=eighty\n',
      /PortNumber=eighty is not a whole number/,
    ],
    [
      'TokenURI with PUT',
      '[d]\nHostName=https://a.example\nAuthenticationMethod=53\nClientID=c\nClientSecret=s\nTokenURI=PUT https://x/t\n',
      /TokenURI starts with "PUT", but a token request can only be GET or POST/,
    ],
    [
      'TokenURI with ftp',
      '[d]\nHostName=https://a.example\nAuthenticationMethod=53\nClientID=c\nClientSecret=s\nTokenURI=ftp://x/t\n',
      /TokenURI "ftp:\/\/x\/t" is not an http:\/\/ or https:\/\/ URL/,
    ],
    [
      'HostName not a URL',
      '[d]\nHostName=ftp://a.example\n',
      /HostName "ftp:\/\/a.example" is not an http\(s\) URL/,
    ],
    [
      'unknown method',
      '[d]\nHostName=https://a.example\nAuthenticationMethod=99\n',
      /AuthenticationMethod=99 is not a DataDirect authentication method/,
    ],
    [
      'AuthHeader without SecurityToken',
      '[d]\nHostName=https://a.example\nAuthenticationMethod=53\nClientID=c\nClientSecret=s\nTokenURI=https://x\nAuthHeader=X-Tenant\n',
      /AuthHeader is set but SecurityToken is empty/,
    ],
    [
      'TokenParams bad JSON',
      '[d]\nHostName=https://a.example\nTokenParams={"a":\n',
      /TokenParams looks like JSON but does not parse/,
    ],
    [
      'TokenPlacement',
      '[d]\nHostName=https://a.example\nTokenPlacement=cookie\n',
      /TokenPlacement=cookie is not header, header:NAME or query:NAME/,
    ],
    [
      'RefreshOnStatus',
      '[d]\nHostName=https://a.example\nRefreshOnStatus=401,abc\n',
      /"abc" in RefreshOnStatus is not an HTTP error status/,
    ],
    [
      'DSN defined twice',
      '[d]\nHostName=https://a.example\n[D]\nHostName=https://b.example\n',
      /defined twice \(first on line 1\)/,
    ],
  ];
  for (const [name, text, expected] of cases) {
    const { problems } = await load(t, text);
    t.match(errors(problems).map(formatProblem).join('\n'), expected, name);
  }
});

t.test('a file that does not exist, and a directory', async (t) => {
  const { dir } = tempDir(t);
  const missing = await loadConfig({ configPath: 'nope.ini', env: {}, cwd: dir });
  t.match(missing.problems.map(formatProblem), [
    new RegExp(`${dir}/nope.ini: error: the config file does not exist`),
  ]);
  const directory = await loadConfig({ configPath: dir, env: {}, cwd: dir });
  t.match(directory.problems[0]?.message, /is a directory/);
});

t.test('secrets never appear in problems', async (t) => {
  const { problems } = await load(
    t,
    '[d]\nAuthenticationMethod=54\nClientSecret=topsecret\r\nRefreshToken=rt#1 ;x\nHostName=https://a.example\nPassword=pw\0pw\n',
  );
  t.ok(problems.length >= 2);
  t.notMatch(JSON.stringify(problems), /topsecret|rt#1|pw.pw/);
});

t.test(
  'config location: --config, $TOKENSHIM_CONFIG, $ODBCINI, ./odbc.ini, ~/.odbc.ini',
  async (t) => {
    const { dir, write } = tempDir(t);
    const home = `${dir}/home`;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(home);
    t.same(await locateConfig({ env: {}, cwd: dir, home }), { why: 'none found' });
    write('home/.odbc.ini', '[h]\nHostName=https://h.example\n');
    t.equal((await locateConfig({ env: {}, cwd: dir, home })).path, `${home}/.odbc.ini`);
    write('odbc.ini', '[c]\nHostName=https://c.example\n');
    t.equal((await locateConfig({ env: {}, cwd: dir, home })).path, `${dir}/odbc.ini`);
    t.equal((await locateConfig({ env: { ODBCINI: '/o.ini' }, cwd: dir, home })).path, '/o.ini');
    t.equal(
      (
        await locateConfig({
          env: { ODBCINI: '/o.ini', TOKENSHIM_CONFIG: '/t.ini' },
          cwd: dir,
          home,
        })
      ).path,
      '/t.ini',
    );
    t.equal(
      (
        await locateConfig({
          configPath: 'x.ini',
          env: { TOKENSHIM_CONFIG: '/t.ini' },
          cwd: dir,
          home,
        })
      ).path,
      `${dir}/x.ini`,
    );
    const none = await loadConfig({ env: {}, cwd: `${dir}/home/..`, home: '/nonexistent' });
    t.equal(none.dsns.length, 1, './odbc.ini found');
  },
);

t.test('--connect: one DSN from a connection string', async (t) => {
  const { dsns, problems } = await loadConfig({
    connect:
      'DRIVER={DataDirect 8.0 Autonomous REST Connector};AuthenticationMethod=53;ClientID=abc;ClientSecret={x;y}}};TokenURI=POST https://x/token;HostName=https://api.example.com;',
    env: {},
  });
  t.same(errors(problems), []);
  t.equal(dsns[0]?.name, 'default');
  t.equal(dsns[0]?.clientSecret, 'x;y}');
  const bad = await loadConfig({ connect: 'AuthenticationMethod=54;ClientSecret={abc', env: {} });
  t.match(bad.problems, [
    { severity: 'error', source: 'connection string', message: /never closes/ },
  ]);
});

t.test(
  '--connect with DSN= loads the section and its own pairs override it (short or long name)',
  async (t) => {
    const { dir, write } = tempDir(t);
    write('odbc.ini', REFRESH_DSN);
    const { dsns, problems, path } = await loadConfig({
      connect: 'DSN=CRM;cid=override;Scope=read',
      env: {},
      cwd: dir,
      home: dir,
    });
    t.same(errors(problems), []);
    t.equal(path, `${dir}/odbc.ini`);
    t.equal(dsns[0]?.name, 'CRM');
    t.equal(dsns[0]?.clientId, 'override');
    t.equal(dsns[0]?.scope, 'read');
    t.equal(dsns[0]?.refreshToken, 'rt-value-123');
    const missing = await loadConfig({ connect: 'DSN=nope', env: {}, cwd: dir, home: dir });
    t.match(missing.problems, [
      { message: /DSN=nope is not a section of this file \(it has: crm\)/ },
    ]);
  },
);

t.test('--connect with FILEDSN= reads the [ODBC] section of a .dsn file', async (t) => {
  const { dir, write } = tempDir(t);
  write(
    'sales.dsn',
    '[ODBC]\nDriver=DataDirect\nAuthenticationMethod=34\nSecurityToken=tok\nHostName=https://s.example\n',
  );
  const { dsns, problems } = await loadConfig({ connect: 'FILEDSN=sales.dsn', env: {}, cwd: dir });
  t.same(errors(problems), []);
  t.equal(dsns[0]?.name, 'sales');
  t.equal(dsns[0]?.method.code, 34);
});

t.test('a config readable by others is warned about', async (t) => {
  const { dir, write } = tempDir(t);
  const path = write('odbc.ini', '[d]\nHostName=https://a.example\n');
  const { chmodSync } = await import('node:fs');
  chmodSync(path, 0o644);
  const { problems } = await loadConfig({ configPath: path, env: {}, cwd: dir });
  t.match(problems, [
    {
      severity: 'warning',
      message: /readable by other users \(mode 644\)/,
      fix: `chmod 600 ${path}`,
    },
  ]);
});

t.test('DSN names: spaces, accents and punctuation load as written', async (t) => {
  const names = ['Marketo Prod', 'Données clients', 'crm (test) #2', '100% & more', 'a+b?c'];
  const { dsns, problems } = await load(
    t,
    names.map((n) => `[${n}]\nHostName=https://a.example\n`).join(''),
  );
  t.same(problems, []);
  t.same(
    dsns.map((d) => d.name),
    names,
  );
});

t.test('DSN names that would route elsewhere are refused with the reason', async (t) => {
  const cases: [string, string][] = [
    ['a/b', 'the DSN name contains "/", which would split it into two segments of the URL path'],
    ['a\\b', 'the DSN name contains "\\", which browsers and HTTP clients turn into "/" in a URL'],
    [
      '_tokenshim',
      `the DSN name "_tokenshim" is tokenshim's own path (/_tokenshim/ serves health, status and metrics)`,
    ],
    [
      '_TokenShim',
      `the DSN name "_TokenShim" is tokenshim's own path (/_tokenshim/ serves health, status and metrics)`,
    ],
    ['..', 'the DSN name ".." is removed from URLs by HTTP clients (a dot segment)'],
    [
      'tab\there',
      'the DSN name contains a control character (a tab, a line break...), which cannot be typed into a URL',
    ],
  ];
  for (const [name, message] of cases) {
    const { path, dsns, problems } = await load(t, `[${name}]\nHostName=https://a.example\n`);
    t.same(dsns, [], name);
    t.same(
      problems,
      [
        {
          severity: 'error',
          source: path,
          line: 1,
          dsn: name,
          message,
          fix: 'rename the DSN: spaces, accents and other punctuation are fine (the gateway URL percent-encodes them)',
        },
      ],
      name,
    );
  }
});
