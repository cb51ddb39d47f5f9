/**
 * DataDirect's own refresh-token example (Autonomous REST Connector 8.0, "Refresh token grant"),
 * pasted as the page prints it: its odbc.ini lines and its connection URL with a line break and no
 * `;` after ClientID, `AuthenticationMethod=54;`, `Clientsecret`, a Model file instead of
 * HostName, and a TokenURI without `POST ` that Google answers with 405. Only Google's origin is
 * replaced, by a local imitation; the Model file sits at the printed path, below the test's folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { loadConfig } from '../../lib/config/load.js';
import { startGoogle, type GoogleImitation } from '../fixtures/imitations/google.js';
import { call, capturingLogger, startSampleProxy } from '../fixtures/imitations/sample-harness.js';
import { tempDir } from '../fixtures/temp-config.js';

/** The page's own placeholder values. */
const DATADIRECT_CLIENT = {
  clientId: '1234567898-a1bc2de3fgh4ij567klmn8opqr9stu.apps.googleusercontent.com',
  clientSecret: 'FaZBFRsGXTaR',
  refreshToken: '1/abCD0F1GHijkLmNOPqrs_T2VWx3Y-Zabc45dE6FGh',
};

const PRINTED_ODBC_INI = `Driver=ODBCHOME/lib/ivautorestxx.so;
Description=My Autonomous REST Data Source
AuthenticationMethod=54;
ClientID=1234567898-a1bc2de3fgh4ij567klmn8opqr9stu.apps.googleusercontent.com
Clientsecret=FaZBFRsGXTaR
RefreshToken=1/abCD0F1GHijkLmNOPqrs_T2VWx3Y-Zabc45dE6FGh
RestConfigFile=C:/path/to/googleanalytics.rest
TokenURI=https://accounts.google.com/o/oauth2/token
`;

const PRINTED_CONNECTION_URL = `DRIVER=DataDirect 8.0 Autonomous REST Connector;AuthenticationMethod=54;
ClientID=1234567898-a1bc2de3fgh4ij567klmn8opqr9stu.apps.googleusercontent.com
Clientsecret=FaZBFRsGXTaR;RestConfigFile=C:/path/to/googleanalytics.rest;
RefreshToken=1/abCD0F1GHijkLmNOPqrs_T2VWx3Y-Zabc45dE6FGh;
TokenURI=https://accounts.google.com/o/oauth2/token;
`;

const PROPERTY = '123456789';

/** A folder holding C:/path/to/googleanalytics.rest, whose tables are the imitation's reports. */
function modelFolder(t: Test, google: GoogleImitation): string {
  const { dir } = tempDir(t);
  mkdirSync(join(dir, 'C:', 'path', 'to'), { recursive: true });
  writeFileSync(
    join(dir, 'C:', 'path', 'to', 'googleanalytics.rest'),
    JSON.stringify({
      '#headers': { Accept: 'application/json' },
      activeUsersByCountry: {
        '#path': `POST ${google.origin}/v1beta/properties/${PROPERTY}:runReport /rows`,
        '#post': { metrics: [{ name: 'activeUsers' }] },
      },
    }),
  );
  return dir;
}

const pasted = (text: string, google: GoogleImitation): string =>
  text.replace('https://accounts.google.com', google.origin);

async function loadPrinted(t: Test, how: 'odbc.ini' | 'connection URL') {
  const google = await startGoogle({ client: DATADIRECT_CLIENT, reportRows: 2 });
  t.teardown(() => google.close());
  const dir = modelFolder(t, google);
  const tokenStore = join(dir, 'tokens.json');
  if (how === 'odbc.ini') {
    const ini = join(dir, 'odbc.ini');
    writeFileSync(
      ini,
      `[Google Analytics]\n${pasted(PRINTED_ODBC_INI, google)}TokenStore=${tokenStore}\n`,
      { mode: 0o600 },
    );
    return { google, loaded: await loadConfig({ configPath: ini, env: {}, cwd: dir }) };
  }
  const connect = `${pasted(PRINTED_CONNECTION_URL, google)}TokenStore=${tokenStore};`;
  return { google, loaded: await loadConfig({ connect, env: {}, cwd: dir }) };
}

for (const how of ['odbc.ini', 'connection URL'] as const) {
  t.test(`the ${how} as printed loads: the Model file gives the upstream`, async (t) => {
    const { google, loaded } = await loadPrinted(t, how);
    t.same(
      loaded.problems.filter((p) => p.severity === 'error'),
      [],
    );
    t.match(
      loaded.problems.filter((p) => p.severity === 'warning'),
      [{ key: 'TokenURI', message: /no "POST " prefix.*refresh token in its URL/ }],
      'one warning: the refresh token would travel in a URL',
    );
    const dsn = loaded.dsns[0]!;
    t.equal(dsn.method.code, 54);
    t.equal(dsn.clientSecret, DATADIRECT_CLIENT.clientSecret, 'Clientsecret, any case');
    t.equal(dsn.tokenEndpoint?.method, 'GET', "DataDirect's default");
    t.equal(dsn.upstream?.origin, google.origin, 'from the Model file, HostName absent');
    t.same(dsn.upstreamHeaders, [
      { name: 'Accept', value: 'application/json', from: 'Model file #headers' },
    ]);
  });
}

t.test(
  'runReport through the proxy: the refused GET is asked again by POST, once, with one warning',
  async (t) => {
    const { google, loaded } = await loadPrinted(t, 'odbc.ini');
    const log = capturingLogger();
    const proxy = await startSampleProxy(t, loaded.dsns, { logger: log.logger });
    const report = `/v1beta/properties/${PROPERTY}:runReport`;
    const run = () =>
      call(`${proxy.server.dsnUrl('Google Analytics')}${report}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ metrics: [{ name: 'activeUsers' }], limit: '10' }),
      });

    const first = await run();
    t.equal(first.status, 200, first.text);
    t.equal(first.json<{ rowCount: number }>().rowCount, 2);
    const [get, post] = google.requestsTo('/o/oauth2/token');
    t.equal(get?.method, 'GET');
    t.equal(post?.method, 'POST');
    t.equal(post?.headers['content-type'], 'application/x-www-form-urlencoded');
    t.match(post?.headers.authorization, /^Basic /, 'ClientCredentialsMode 0: HTTP Basic');
    t.same(Object.fromEntries(new URLSearchParams(post?.body)), {
      grant_type: 'refresh_token',
      refresh_token: DATADIRECT_CLIENT.refreshToken,
    });
    const [api] = google.requestsTo(report);
    t.equal(api?.headers.authorization, `Bearer ${google.issued[0]}`);
    t.equal(api?.headers.accept, 'application/json', "the Model file's #headers");

    // the next token (the API rejected the first) is asked for by POST straight away
    google.expireAccessTokens();
    t.equal((await run()).status, 200);
    t.same(
      google.requestsTo('/o/oauth2/token').map((r) => r.method),
      ['GET', 'POST', 'POST'],
    );

    const warnings = log
      .text()
      .split('\n')
      .filter((l) => l.includes('token_endpoint_wants_post'));
    t.equal(warnings.length, 1, 'said once');
    t.match(warnings[0], `Write TokenURI=POST ${google.origin}/o/oauth2/token in the config`);
    t.notMatch(log.text(), new RegExp(`${DATADIRECT_CLIENT.clientSecret}|abCD0F1GH`));
  },
);

t.test('the connection URL as printed gets its token the same way', async (t) => {
  const { google, loaded } = await loadPrinted(t, 'connection URL');
  const provider = createCredentialProvider(loaded.dsns[0]!);
  t.teardown(() => provider.close());
  const credential = await provider.credential();
  t.same(credential.headers, [
    ['Authorization', `Bearer ${google.issued[0]}`],
    ['Accept', 'application/json'],
  ]);
  t.same(
    google.requestsTo('/o/oauth2/token').map((r) => r.method),
    ['GET', 'POST'],
  );
});

t.test('a TokenURI from ${env:}: the warning names the reference, not the URL', async (t) => {
  const google = await startGoogle({ client: DATADIRECT_CLIENT });
  t.teardown(() => google.close());
  const dir = modelFolder(t, google);
  const ini = join(dir, 'odbc.ini');
  writeFileSync(
    ini,
    `[ga]\n${PRINTED_ODBC_INI.replace(/^TokenURI=.*$/m, 'TokenURI=${env:GA_TOKEN_URI}')}TokenStore=${join(dir, 't.json')}\n`,
  );
  const env = { GA_TOKEN_URI: `${google.origin}/o/oauth2/token` };
  const loaded = await loadConfig({ configPath: ini, env, cwd: dir });
  const log = capturingLogger();
  const provider = createCredentialProvider(loaded.dsns[0]!, { logger: log.logger });
  t.teardown(() => provider.close());
  await provider.credential();
  const warning = log
    .text()
    .split('\n')
    .find((l) => l.includes('token_endpoint_wants_post'));
  t.match(warning, 'Write TokenURI=POST ${env:GA_TOKEN_URI} in the config');
  t.notMatch(warning, google.origin);
});
