/** What `tokenshim check` prints for a DSN: each line a person acts on, secrets masked. */
import t, { type Test } from 'tap';
import { describeDsn } from '../../lib/cli/describe-dsn.js';
import { runCheck } from '../../lib/cli/check.js';
import { loadConfig } from '../../lib/config/load.js';
import { captureIo } from '../fixtures/capture-io.js';
import { makeDsn, type DsnOverrides } from '../fixtures/make-dsn.js';
import { tempDir } from '../fixtures/temp-config.js';

async function described(t: Test, ini: string, files: Record<string, string> = {}, env = {}) {
  const { dir, write } = tempDir(t);
  for (const [name, text] of Object.entries(files)) write(name, text);
  const path = write('odbc.ini', ini);
  const loaded = await loadConfig({ configPath: path, env, cwd: dir });
  t.same(
    loaded.problems.filter((p) => p.severity === 'error'),
    [],
  );
  return {
    dir,
    text: describeDsn(loaded.dsns[0]!, { gateway: 'http://127.0.0.1:8791' }).join('\n'),
  };
}

t.test(
  'the URL to call: the name percent-encoded, on the given port, and the ListenPort',
  async (t) => {
    const { text } = await described(
      t,
      '[Marketo Prod]\nHostName=https://a.example\nListenPort=9001\n',
    );
    t.match(
      text,
      '  url:         http://127.0.0.1:8791/Marketo%20Prod/ and http://127.0.0.1:9001/ (ListenPort)',
    );
    const plain = describeDsn(makeDsn({ name: 'crm' })).join('\n');
    t.match(plain, '  url:         http://127.0.0.1:8790/crm/', "serve's default port");
  },
);

t.test('secrets inside URLs are masked: TokenURI query values', async (t) => {
  const { text } = await described(
    t,
    '[m]\nAuthenticationMethod=53\nClientID=cid\nClientSecret=cs-0123456789\nClientCredentialsMode=2\n' +
      'TokenURI=https://mkto.example.com/identity/oauth/token?client_secret=in-the-url-77\n' +
      'HostName=https://mkto.example.com/rest\n',
  );
  t.match(
    text,
    '  token:       GET https://mkto.example.com/identity/oauth/token?client_secret=****77',
  );
  t.match(text, '  upstream:    https://mkto.example.com/rest');
  t.match(
    text,
    '  client auth: client_id and client_secret in the URL query of the GET (ClientCredentialsMode=2)',
  );
  t.notMatch(text, /in-the-url|cs-0123/);
});

t.test(
  'what each upstream request carries: the token, AuthHeader + SecurityToken, #headers; Scope',
  async (t) => {
    const { dir, text } = await described(
      t,
      '[m]\nAuthenticationMethod=54\nClientID=c\nRefreshToken=rt-value-12\nTokenURI=POST https://login.example.com/t\n' +
        'Scope=read write\nAuthHeader=X-Tenant-ID\nSecurityToken=tenant-secret-34\nRestConfigFile=m.rest\n',
      {
        'm.rest': JSON.stringify({
          '#headers': { Accept: 'application/json', 'X-Api-Key': 'model-api-key-56' },
          '#http': [{ '#code': 429, '#action': 'RETRY_AFTER' }],
          leads: 'https://api.example.com/rest/v1/leads.json',
          files: 'https://files.example.com/v1',
        }),
      },
    );
    t.match(
      text,
      [
        '  upstream:    https://api.example.com/ (from the Model file)',
        '  also allowed: https://files.example.com (Model file)',
        `  model file:  ${dir}/m.rest`,
        '               not used: #http: HTTP status rules steer the driver; tokenshim passes responses through and refreshes on RefreshOnStatus (401)',
        "               not used: tables: 2 table definition(s): columns, paging and the relational map are the driver's; tokenshim takes only the hosts of their endpoints",
        '  token:       POST https://login.example.com/t',
        '  grant:       refresh_token, parameters in the form body',
        '  client auth: public client (no ClientSecret): client_id in the form body',
        '  scope:       read write',
        '  sends:       Authorization: token type, e.g. Bearer <access token from TokenURI>',
        '               X-Tenant-ID: ****34 (SecurityToken)',
        '               Accept: application/json (Model file #headers)',
        '               X-Api-Key: ****56 (Model file #headers)',
      ].join('\n'),
    );
    t.notMatch(text, /tenant-secret|model-api-key|rt-value/);
  },
);

t.test('the credential line of each method', async (t) => {
  const cases: [DsnOverrides, string][] = [
    [{ method: 15 }, ''],
    [{ method: 0, user: 'bob', password: 'pw' }, 'Authorization: Basic <User:Password> (User=bob)'],
    [{ method: 0, user: 'bob', authHeader: 'X-Auth' }, 'X-Auth: Basic <User:Password> (User=bob)'],
    [
      { method: 34, securityToken: 'bearer-token-12' },
      'Authorization: Bearer ****12 (SecurityToken)',
    ],
    [
      { method: 25, authHeader: 'X-Api-Key', securityToken: 'api-key-value-34' },
      'X-Api-Key: ****34 (SecurityToken)',
    ],
    [
      { method: 14, authParam: 'apikey', securityToken: 'api-key-value-56' },
      'query parameter apikey=****56 (SecurityToken)',
    ],
    [{ method: 50, accessToken: 'static-access-78' }, 'Authorization: Bearer ****78 (AccessToken)'],
    [
      {
        method: 53,
        tokenPlacement: { kind: 'query', name: 'access_token' },
      },
      'query parameter access_token=<access token from TokenURI>',
    ],
    [
      { method: 53, tokenScheme: 'Zoho-oauthtoken' },
      'Authorization: Zoho-oauthtoken <access token from TokenURI>',
    ],
  ];
  for (const [o, line] of cases) {
    const text = describeDsn(makeDsn(o)).join('\n');
    if (line === '') t.notMatch(text, 'sends:', `method ${o.method}: nothing`);
    else t.match(text, `  sends:       ${line}`, `method ${o.method}`);
  }
});

t.test('values from ${env:} and the like: named by their reference, never shown', async (t) => {
  const { text } = await described(
    t,
    '[m]\nAuthenticationMethod=25\nAuthHeader=X-Key\nSecurityToken=${env:API_KEY}\nHostName=https://${env:TENANT}.example.com\n',
    {},
    { API_KEY: 'key-from-env-90', TENANT: 'tenant-4711' },
  );
  t.match(
    text,
    '  references:  SecurityToken=${env:API_KEY} HostName=https://${env:TENANT}.example.com',
  );
  t.notMatch(text, /key-from-env-90|tenant-4711/);
});

t.test('check --port: the URLs it prints are the ones serve --port gives', async (t) => {
  const { write } = tempDir(t);
  const path = write('odbc.ini', '[Sales EU]\nHostName=https://a.example\n');
  const io = captureIo();
  t.equal(await runCheck(['--config', path, '--offline', '--port', '9100'], io), 0);
  t.match(io.out(), 'url:         http://127.0.0.1:9100/Sales%20EU/');
  const bad = captureIo();
  t.equal(await runCheck(['--config', path, '--offline', '--port', 'x'], bad), 2);
  t.match(bad.err(), '--port x is not a whole number from 1 to 65535');
});
