import t from 'tap';
import { runCheck } from '../../lib/cli/check.js';
import { FakeClock } from '../../lib/clock.js';
import { checkOnline, formatOnlineResults } from '../../lib/cli/check-online.js';
import { loadConfig } from '../../lib/config/load.js';
import { captureIo } from '../fixtures/capture-io.js';
import { CLIENTS, startOAuthServer } from '../fixtures/oauth-server.js';
import { tempDir } from '../fixtures/temp-config.js';
import { startUpstream } from '../fixtures/upstream.js';

t.test(
  "check without --offline: a token per DSN, the server's error, HealthURI and the store",
  async (t) => {
    const oauth = await startOAuthServer();
    t.teardown(() => oauth.close());
    const rt = await oauth.issueRefreshToken(CLIENTS.basic.clientId);
    const upstream = await startUpstream(t, {
      handler: (req, res) => {
        const ok =
          req.url === '/api/health' && (req.headers.authorization ?? '').startsWith('Bearer ');
        res.writeHead(ok ? 200 : 401).end();
      },
    });
    const { write } = tempDir(t);
    const config = write(
      'odbc.ini',
      [
        '[crm]',
        'AuthenticationMethod=54',
        `ClientID=${CLIENTS.basic.clientId}`,
        `ClientSecret=${CLIENTS.basic.clientSecret}`,
        `RefreshToken=${rt}`,
        `TokenURI=POST ${oauth.tokenEndpoint}`,
        `HostName=${upstream.origin}/api`,
        `HealthURI=${upstream.origin}/api/health`,
        '',
        '[wrongsecret]',
        'AuthenticationMethod=53',
        `ClientID=${CLIENTS.post.clientId}`,
        'ClientSecret=not-the-secret-0123456789',
        'ClientCredentialsMode=3',
        `TokenURI=POST ${oauth.tokenEndpoint}`,
        `HostName=${upstream.origin}/api`,
        '',
        '[sick]',
        'AuthenticationMethod=53',
        `ClientID=${CLIENTS.post.clientId}`,
        `ClientSecret=${CLIENTS.post.clientSecret}`,
        'ClientCredentialsMode=3',
        `TokenURI=POST ${oauth.tokenEndpoint}`,
        `HostName=${upstream.origin}/api`,
        `HealthURI=${upstream.origin}/api/missing`,
        '',
        '[plain]',
        'AuthenticationMethod=15',
        `HostName=${upstream.origin}/open`,
        '',
      ].join('\n'),
    );
    const io = captureIo();
    t.equal(await runCheck(['--config', config], io), 1, io.err());
    const out = io.out();
    t.match(
      out,
      /\[crm\] ok\n {2}token: {7}ok: token obtained, valid until \d{4}-\d\d-\d\dT[\d:]+Z\n {2}health: {6}GET http:\/\/127\.0\.0\.1:\d+\/api\/health: HTTP 200\n {2}token store: file .*odbc\.ini\.tokens\.json, reachable/,
    );
    t.match(
      out,
      /\[wrongsecret\] FAILED\n {2}token: {7}FAILED: DSN "wrongsecret": the token endpoint \(POST http:\/\/127\.0\.0\.1:\d+\/token\) answered 401 invalid_client/,
    );
    t.match(out, /Check ClientID, ClientSecret and ClientCredentialsMode/);
    t.match(
      out,
      /\[sick\] FAILED\n {2}token: {7}ok: token obtained.*\n {2}health: {6}FAILED: GET http:\/\/127\.0\.0\.1:\d+\/api\/missing: HTTP 401/,
    );
    t.match(out, /\[plain\] ok\n {2}token: {7}no authentication/);
    t.match(out, /2 DSN\(s\) failed the online check/);
    t.equal(upstream.requests.filter((r) => r.url === '/api/health').length, 1);
    t.notMatch(out + io.err(), CLIENTS.basic.clientSecret);
    t.notMatch(out + io.err(), rt);
    t.notMatch(out + io.err(), 'not-the-secret-0123456789');
  },
);

t.test('HealthURI on another origin is called without credentials', async (t) => {
  const oauth = await startOAuthServer();
  t.teardown(() => oauth.close());
  const elsewhere = await startUpstream(t);
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    [
      '[cc]',
      'AuthenticationMethod=53',
      `ClientID=${CLIENTS.post.clientId}`,
      `ClientSecret=${CLIENTS.post.clientSecret}`,
      'ClientCredentialsMode=3',
      `TokenURI=POST ${oauth.tokenEndpoint}`,
      'HostName=https://api.example.com',
      `HealthURI=${elsewhere.origin}/status`,
      '',
    ].join('\n'),
  );
  const results = await checkOnline((await loadConfig({ configPath: config })).dsns, {
    configPath: config,
    env: {},
  });
  t.equal(results[0]?.health?.ok, true);
  t.match(
    results[0]?.health?.detail,
    /sent without credentials: HealthURI is not on HostName or AllowedHosts/,
  );
  t.equal(
    elsewhere.requests[0]?.headers.authorization,
    undefined,
    'the token never left its origins',
  );
});

t.test('an unreachable token store is reported', async (t) => {
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    [
      '[crm]',
      'AuthenticationMethod=53',
      'ClientID=a',
      'ClientSecret=b-0123456789',
      'TokenURI=POST http://127.0.0.1:9/token',
      'HostName=https://api.example.com',
      'TokenStore=redis://127.0.0.1:9/0',
      '',
    ].join('\n'),
  );
  const results = await checkOnline((await loadConfig({ configPath: config })).dsns, {
    configPath: config,
    timeoutMs: 5_000,
  });
  t.equal(results[0]?.ok, false);
  t.equal(results[0]?.store?.reachable, false);
  t.match(results[0]?.store?.description, /redis:\/\/127\.0\.0\.1:9/);
  t.match(results[0]?.store?.error, /unreachable/);
});

t.test('a token endpoint that does not answer in time is a failed check, named', async (t) => {
  const held: (() => void)[] = [];
  const silent = await startUpstream(t, {
    handler: (_req, res) => {
      held.push(() => res.end());
    },
  });
  t.teardown(() => held.forEach((end) => end()));
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    [
      '[slow]',
      'AuthenticationMethod=53',
      'ClientID=a',
      'ClientSecret=b-0123456789',
      `TokenURI=POST ${silent.origin}/token`,
      'HostName=https://api.example.com',
      // the abandoned token request ends on its own soon after the check gave up
      'HeadersTimeout=1',
      '',
    ].join('\n'),
  );
  const clock = new FakeClock();
  const checking = checkOnline((await loadConfig({ configPath: config })).dsns, {
    configPath: config,
    env: {},
    clock,
    timeoutMs: 30_000,
  });
  while (silent.requests.length === 0) await new Promise((r) => setImmediate(r));
  clock.advance(30_000);
  const [result] = await checking;
  t.equal(result?.ok, false);
  t.equal(
    result?.token.detail,
    'DSN "slow": no answer from the token endpoint within 30 s; check TokenURI and the network.',
  );
});

t.test(
  'on Windows, a token store file every local user may read is warned about, with the icacls fix',
  async (t) => {
    const oauth = await startOAuthServer();
    t.teardown(() => oauth.close());
    const { dir, write } = tempDir(t);
    const store = `${dir}/tokens.json`;
    const config = write(
      'odbc.ini',
      [
        '[erp]',
        'AuthenticationMethod=53',
        `ClientID=${CLIENTS.post.clientId}`,
        `ClientSecret=${CLIENTS.post.clientSecret}`,
        'ClientCredentialsMode=3',
        `TokenURI=POST ${oauth.tokenEndpoint}`,
        'HostName=https://api.example.com',
        `TokenStore=${store}`,
        '',
      ].join('\n'),
    );
    const dsns = (await loadConfig({ configPath: config })).dsns;
    const asked: string[][] = [];
    const icacls = (output: string) => ({
      platform: 'win32' as const,
      env: { SystemRoot: 'C:\\Windows' },
      run: async (file: string, args: readonly string[]) => {
        asked.push([file, ...args]);
        return { code: 0, stdout: Buffer.from(output), stderr: Buffer.alloc(0) };
      },
    });
    const inherited = [
      `${store} NT AUTHORITY\\SYSTEM:(I)(F)`,
      '    BUILTIN\\Administrators:(I)(F)',
      '    BUILTIN\\Users:(I)(RX)',
      '',
      'Successfully processed 1 files; Failed processing 0 files',
    ].join('\r\n');
    const [exposed] = await checkOnline(dsns, { configPath: config, acl: icacls(inherited) });
    t.same(asked, [['C:\\Windows\\System32\\icacls.exe', store]]);
    t.equal(exposed?.ok, true, 'a warning, not a failed check');
    t.same(exposed?.storeExposure, {
      readableBy: 'readable by BUILTIN\\Users',
      fix: `icacls "${store}" /inheritance:r /grant:r "*S-1-3-4:(F)" "*S-1-5-18:(F)" "*S-1-5-32-544:(F)"`,
    });
    t.match(
      formatOnlineResults([exposed!]).join('\n'),
      `WARNING: readable by BUILTIN\\Users, who can then use its refresh tokens. Fix: icacls "${store}"`,
    );

    const owner = `${store} OWNER RIGHTS:(F)\r\n    NT AUTHORITY\\SYSTEM:(F)\r\n`;
    const [restricted] = await checkOnline(dsns, { configPath: config, acl: icacls(owner) });
    t.equal(restricted?.storeExposure, undefined);
    const [posix] = await checkOnline(dsns, { configPath: config, acl: { platform: 'linux' } });
    t.equal(posix?.storeExposure, undefined, 'elsewhere the mode bits (0600) say enough');
  },
);
