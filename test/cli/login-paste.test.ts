/**
 * `tokenshim login --paste` against oidc-provider: the person logs in with a browser elsewhere
 * (the real login and consent pages) and pastes back the address the browser ended at, on
 * standard input. Nothing listens at the redirect_uri.
 */
import { PassThrough } from 'node:stream';
import t, { type Test } from 'tap';
import { createPkcePair } from '../../lib/auth/login/pkce.js';
import { MemoryTokenStore } from '../../lib/auth/stores/memory-store.js';
import { runLogin } from '../../lib/cli/login.js';
import { FakeClock } from '../../lib/clock.js';
import { captureIo } from '../fixtures/capture-io.js';
import { CLIENTS, startOAuthServer, type OAuthServer } from '../fixtures/oauth-server.js';
import { browseLogin } from '../fixtures/oidc-login-browser.js';
import { tempDir } from '../fixtures/temp-config.js';

const REDIRECT = 'http://127.0.0.1/callback';

async function setUp(t: Test, extra: string[] = []) {
  const server = await startOAuthServer({ clients: [CLIENTS.native] });
  t.teardown(() => server.close());
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    [
      '[crm]',
      'AuthenticationMethod=54',
      'ClientID=native-client',
      'Scope=openid offline_access api',
      `AuthURI=${server.issuer}/auth`,
      `TokenURI=POST ${server.tokenEndpoint}`,
      'HostName=https://api.example.com',
      ...extra,
      '',
    ].join('\n'),
  );
  const io = captureIo();
  const stdin = new PassThrough();
  const store = new MemoryTokenStore();
  return { server, config, io, stdin, store };
}

/** Resolves with the first match of `pattern` in what the command wrote to `which`. */
function printed(
  io: ReturnType<typeof captureIo>,
  pattern: RegExp,
  which: 'stdout' | 'stderr' = 'stdout',
): Promise<RegExpExecArray> {
  return new Promise((resolve) => {
    const look = (): void => {
      const m = pattern.exec(which === 'stdout' ? io.out() : io.err());
      if (m) resolve(m);
      else io[which].once('data', look);
    };
    look();
  });
}

/** The person: opens the printed URL elsewhere, logs in, copies the address from the address bar. */
async function logInElsewhere(io: ReturnType<typeof captureIo>): Promise<string> {
  const url = (await printed(io, /^ {2}(http\S+)$/m))[1]!;
  const visit = await browseLogin(url, { stopAt: REDIRECT });
  if (!visit.finalUrl)
    throw new Error(`the browser did not end at ${REDIRECT}: ${visit.finalBody}`);
  return visit.finalUrl;
}

const codeExchanges = (server: OAuthServer) =>
  server.grants.filter((g) => g.grantType === 'authorization_code');

t.test('the pasted address logs in: state checked, code redeemed with the verifier', async (t) => {
  const { server, config, io, stdin, store } = await setUp(t);
  const running = runLogin(['crm', '--config', config, '--paste'], io, { stdin, store });
  const redirected = await logInElsewhere(io);
  const authUrl = new URL((await printed(io, /^ {2}(http\S+)$/m))[1]!);
  t.equal(authUrl.searchParams.get('redirect_uri'), REDIRECT, 'no port: nothing listens there');
  t.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
  t.match(redirected, /^http:\/\/127\.0\.0\.1\/callback\?code=/);

  stdin.write(`${redirected}\n`);
  t.equal(await running, 0, io.err());
  t.match(io.out(), /paste it here/);
  t.match(io.out(), /Logged in: the refresh token for DSN "crm" is stored in memory/);
  t.ok((await store.load('crm'))?.refreshToken);
  t.match(codeExchanges(server), [{ error: undefined, clientAuthMethod: 'none' }]);
  const code = new URL(redirected).searchParams.get('code')!;
  t.notMatch(io.out() + io.err(), code, 'the code is not printed back');
});

t.test(
  'an address from another login attempt is refused and the wait goes on; the code alone works',
  async (t) => {
    const { server, config, io, stdin, store } = await setUp(t);
    const running = runLogin(['crm', '--config', config, '--paste'], io, { stdin, store });
    const redirected = new URL(await logInElsewhere(io));
    const code = redirected.searchParams.get('code')!;

    stdin.write(`${REDIRECT}?code=${code}&state=an-older-login\n`);
    await printed(io, /another login attempt/, 'stderr');
    stdin.write('\n');
    stdin.write(`${(await printed(io, /^ {2}(http\S+)$/m))[1]}\n`);
    await printed(io, /carries no code: paste the address the browser shows after/, 'stderr');
    t.equal(codeExchanges(server).length, 0, 'nothing was redeemed yet');

    stdin.write(`${code}\n`);
    t.equal(await running, 0, io.err());
    t.ok((await store.load('crm'))?.refreshToken);
    t.equal(codeExchanges(server).length, 1);
  },
);

t.test('PKCE: a bare code from another login cannot be redeemed here', async (t) => {
  const { server, config, io, stdin, store } = await setUp(t);
  const running = runLogin(['crm', '--config', config, '--paste'], io, { stdin, store });
  await printed(io, /^ {2}(http\S+)$/m);
  // someone else's login, with a verifier this tokenshim does not hold
  const other = createPkcePair();
  const foreign = new URL(`${server.issuer}/auth`);
  for (const [k, v] of Object.entries({
    client_id: 'native-client',
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'openid offline_access api',
    prompt: 'consent',
    state: 'theirs',
    code_challenge: other.challenge,
    code_challenge_method: 'S256',
  })) {
    foreign.searchParams.set(k, v);
  }
  const visit = await browseLogin(foreign.href, { stopAt: REDIRECT });
  stdin.write(`${new URL(visit.finalUrl!).searchParams.get('code')}\n`);
  t.equal(await running, 1);
  t.match(io.err(), /the token endpoint .* answered 400 invalid_grant/);
  t.match(codeExchanges(server), [{ error: 'invalid_grant' }]);
  t.equal(await store.load('crm'), undefined);
});

t.test('a refusal pasted back, input that ends, and a login that never comes', async (t) => {
  t.test('access_denied', async (t) => {
    const { config, io, stdin, store } = await setUp(t);
    const running = runLogin(['crm', '--config', config, '--paste'], io, { stdin, store });
    const state = new URL((await printed(io, /^ {2}(http\S+)$/m))[1]!).searchParams.get('state');
    stdin.write(`${REDIRECT}?error=access_denied&state=${state}\n`);
    t.equal(await running, 1);
    t.match(io.err(), /the provider refused the login: access_denied\. Run tokenshim login again/);
  });

  t.test('standard input ends', async (t) => {
    const { config, io, stdin, store } = await setUp(t);
    const running = runLogin(['crm', '--config', config, '--paste'], io, { stdin, store });
    await printed(io, /^ {2}(http\S+)$/m);
    stdin.end();
    t.equal(await running, 1);
    t.match(io.err(), /standard input ended before the redirected address/);
  });

  t.test('--timeout', async (t) => {
    const { config, io, stdin, store } = await setUp(t);
    const clock = new FakeClock();
    const running = runLogin(['crm', '--config', config, '--paste', '--timeout', '30'], io, {
      stdin,
      store,
      clock,
    });
    await printed(io, /Waiting up to 30 s/);
    clock.advance(30_000);
    t.equal(await running, 1);
    t.match(io.err(), /nothing was pasted within 30 s\. Authorization codes expire within minutes/);
  });
});

t.test('usage: --paste and --device together; --paste needs AuthURI', async (t) => {
  const { config, io, store } = await setUp(t);
  t.equal(await runLogin(['crm', '--config', config, '--paste', '--device'], io, { store }), 2);
  t.match(io.err(), /--paste and --device are two ways to log in: choose one/);

  const { write } = tempDir(t);
  const noAuth = write(
    'odbc.ini',
    '[tv]\nAuthenticationMethod=54\nClientID=c\nTokenURI=POST https://login.example.com/token\nHostName=https://api.example.com\n',
  );
  const io2 = captureIo();
  t.equal(await runLogin(['tv', '--config', noAuth, '--paste'], io2, { store }), 2);
  t.match(
    io2.err(),
    /tokenshim login --paste needs AuthURI \(the provider's authorization endpoint\)/,
  );
});
