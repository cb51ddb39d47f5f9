/**
 * `tokenshim login --device` against oidc-provider's device flow (RFC 8628): tokenshim prints the
 * code and polls; the person enters it on the provider's own verification page, logs in and
 * approves, in a browser elsewhere (the same walk as the browser-login tests).
 */
import t, { type Test } from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../lib/auth/stores/memory-store.js';
import { runLogin } from '../../lib/cli/login.js';
import { FakeClock } from '../../lib/clock.js';
import { loadConfig } from '../../lib/config/load.js';
import { captureIo } from '../fixtures/capture-io.js';
import { DEVICE_CODE_GRANT, startOAuthServer } from '../fixtures/oauth-server.js';
import { browseLogin, type BrowserOptions } from '../fixtures/oidc-login-browser.js';
import { tempDir } from '../fixtures/temp-config.js';

async function setUp(t: Test) {
  const server = await startOAuthServer({
    clients: [
      {
        clientId: 'tv-client',
        clientSecret: '',
        auth: 'none',
        grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'],
      },
    ],
  });
  t.teardown(() => server.close());
  const { write } = tempDir(t);
  // DeviceAuthURI and no AuthURI: tokenshim login uses the device flow without being told
  const config = write(
    'odbc.ini',
    [
      '[tv]',
      'AuthenticationMethod=54',
      'ClientID=tv-client',
      'Scope=openid offline_access api',
      `DeviceAuthURI=${server.deviceAuthorizationEndpoint}`,
      `TokenURI=POST ${server.tokenEndpoint}`,
      'HostName=https://api.example.com',
      '',
    ].join('\n'),
  );
  return { server, config, io: captureIo(), clock: new FakeClock(Date.now()) };
}

function printed(io: ReturnType<typeof captureIo>, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve) => {
    const look = (): void => {
      const m = pattern.exec(io.out());
      if (m) resolve(m);
      else io.stdout.once('data', look);
    };
    look();
  });
}

/** The next poll: waits until tokenshim sleeps between polls, then moves the clock past it. */
async function nextPoll(clock: FakeClock, polls: () => number): Promise<void> {
  const before = polls();
  while (clock.pending === 0) await new Promise((resolve) => setImmediate(resolve));
  clock.advance(5_000);
  while (polls() === before) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The person enters the code at the verification page (pre-filled) and logs in. */
async function enterCode(io: ReturnType<typeof captureIo>, opts: BrowserOptions = {}) {
  const complete = (await printed(io, /\(or open (\S+), which has the code filled in\)/))[1]!;
  return browseLogin(complete, opts);
}

t.test(
  'device flow: pending until the person approves, then the refresh token is stored',
  async (t) => {
    const { server, config, io, clock } = await setUp(t);
    const store = new MemoryTokenStore();
    const running = runLogin(['tv', '--config', config], io, { store, clock });
    const [, uri, userCode] = await printed(
      io,
      /open (\S+) on any device and enter the code\n\n {2}(\S+)\n/,
    );
    t.equal(uri, `${server.issuer}/device`);
    t.match(userCode, /^[A-Z]{4}-[A-Z]{4}$/);
    await printed(io, /Waiting up to 10 min for the login/);

    const polls = () => server.grants.filter((g) => g.grantType === DEVICE_CODE_GRANT).length;
    await nextPoll(clock, polls);
    t.match(server.grants.at(-1), { grantType: DEVICE_CODE_GRANT, error: 'authorization_pending' });

    const visit = await enterCode(io);
    t.same(
      visit.submitted.filter(Boolean),
      ['login', 'consent'],
      'the person logged in and approved',
    );
    t.match(visit.finalBody, /Sign-in Success/i);

    await nextPoll(clock, polls);
    t.equal(await running, 0, io.err());
    t.match(server.grants.at(-1), { grantType: DEVICE_CODE_GRANT, error: undefined });
    const stored = await store.load('tv');
    t.ok(stored?.refreshToken);
    t.notMatch(io.out() + io.err(), stored!.refreshToken!);

    // the proxy's token engine lives on it
    const dsn = (await loadConfig({ configPath: config })).dsns[0]!;
    const provider = createCredentialProvider(dsn, { store, clock });
    t.teardown(() => provider.close());
    t.ok((await provider.credential()).accessToken);
    t.match(server.grants.at(-1), { grantType: 'refresh_token', error: undefined });
  },
);

t.test('a person who declines ends the device login with exit 1 and the reason', async (t) => {
  const { server, config, io, clock } = await setUp(t);
  const running = runLogin(['tv', '--config', config, '--device'], io, {
    store: new MemoryTokenStore(),
    clock,
  });
  await enterCode(io, { denyConsent: true });
  await nextPoll(clock, () => server.grants.length);
  t.equal(await running, 1);
  t.match(io.err(), /the login was declined at the verification page/);
});

t.test('--device needs DeviceAuthURI', async (t) => {
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    '[crm]\nAuthenticationMethod=54\nClientID=c\nAuthURI=https://login.example.com/authorize\nTokenURI=POST https://login.example.com/token\nHostName=https://api.example.com\n',
  );
  const io = captureIo();
  t.equal(await runLogin(['crm', '--config', config, '--device'], io), 2);
  t.match(
    io.err(),
    /DSN "crm": tokenshim login --device needs DeviceAuthURI \(the provider's device authorization endpoint, RFC 8628\); add it to the DSN\./,
  );
});
