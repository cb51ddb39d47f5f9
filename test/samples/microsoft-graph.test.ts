import t, { type Test } from 'tap';
import { loginWithBrowser } from '../../lib/auth/login/browser-login.js';
import { loginWithDevice, type DeviceCodePrompt } from '../../lib/auth/login/device-login.js';
import { FakeClock } from '../../lib/clock.js';
import { openTokenStore } from '../../lib/auth/stores/open-token-store.js';
import { TOKEN_TIMING } from '../../lib/auth/token/token-timing.js';
import type { DsnConfig } from '../../lib/config/dsn.js';
import {
  ENTRA_CLIENT,
  startMicrosoft,
  type MicrosoftImitation,
} from '../fixtures/imitations/microsoft.js';
import {
  call,
  capturingLogger,
  joinedUrl,
  loadSample,
  startSampleProxy,
  type SampleProxy,
} from '../fixtures/imitations/sample-harness.js';

const overrides = (origin: string) => ({
  HostName: `${origin}/v1.0`,
  AuthURI: `${origin}/${ENTRA_CLIENT.tenant}/oauth2/v2.0/authorize`,
  DeviceAuthURI: `${origin}/${ENTRA_CLIENT.tenant}/oauth2/v2.0/devicecode`,
  TokenURI: `POST ${origin}/${ENTRA_CLIENT.tenant}/oauth2/v2.0/token`,
  ClientID: ENTRA_CLIENT.clientId,
});

/** `tokenshim login`'s flow, with a "browser" that follows the authorize redirect back to it. */
async function login(dsn: DsnConfig): Promise<void> {
  await loginWithBrowser(dsn, {
    store: openTokenStore(dsn, undefined),
    timeoutMs: 10_000,
    showUrl: () => undefined,
    openBrowser: async (url) => {
      await fetch(url);
    },
  });
}

async function graph(t: Test): Promise<MicrosoftImitation> {
  const ms = await startMicrosoft({ users: 5 });
  t.teardown(() => ms.close());
  return ms;
}

/** Graph's imitation, a `tokenshim login` done, and the proxy over the sample. */
async function loggedInBehindProxy(
  t: Test,
): Promise<{ ms: MicrosoftImitation; proxy: SampleProxy }> {
  const ms = await graph(t);
  const { dsn } = await loadSample(
    t,
    'microsoft-graph.ini',
    'microsoft-graph',
    overrides(ms.origin),
  );
  await login(dsn);
  return { ms, proxy: await startSampleProxy(t, [dsn]) };
}

t.test(
  'samples/microsoft-graph.ini as shipped: PKCE login, public client, offline_access',
  async (t) => {
    const { dsn } = await loadSample(t, 'microsoft-graph.ini', 'microsoft-graph');
    t.equal(dsn.effectiveMethod.code, 56);
    t.equal(dsn.authUri?.href, 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize');
    t.equal(
      dsn.tokenEndpoint?.url.href,
      'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    );
    t.equal(dsn.tokenEndpoint?.method, 'POST');
    t.equal(dsn.clientSecret, undefined, 'a public client has no secret');
    t.ok(dsn.scope?.split(' ').includes('offline_access'));
    t.equal(dsn.upstream?.href, 'https://graph.microsoft.com/v1.0');
    t.equal(
      dsn.deviceAuthUri?.href,
      'https://login.microsoftonline.com/common/oauth2/v2.0/devicecode',
      'tokenshim login --device for servers without a browser',
    );
  },
);

/** `tokenshim login --device`, the clock moved along while it polls, until it ends. */
async function deviceLogin(
  dsn: DsnConfig,
  ms: MicrosoftImitation,
  decision: 'approve' | 'decline',
): Promise<unknown> {
  const clock = new FakeClock(Date.now());
  let shown: DeviceCodePrompt | undefined;
  let settled = false;
  const pollsBefore = ms.devicePolls;
  const login = loginWithDevice(dsn, {
    store: openTokenStore(dsn, undefined),
    clock,
    env: {},
    showCode: (prompt) => (shown = prompt),
  }).then(
    (r) => r,
    (e: unknown) => e,
  );
  void login.finally(() => (settled = true));
  while (!settled) {
    await new Promise((resolve) => setImmediate(resolve));
    if (clock.pending === 0) continue;
    // the person signs in after the first poll was told authorization_pending
    if (ms.devicePolls === pollsBefore + 1 && shown) ms.approveDevice(shown.userCode, decision);
    clock.advance(1000);
  }
  return login;
}

t.test('a server without a browser: the device code flow as Microsoft documents it', async (t) => {
  const ms = await graph(t);
  const { dsn } = await loadSample(
    t,
    'microsoft-graph.ini',
    'microsoft-graph',
    overrides(ms.origin),
  );
  t.match(await deviceLogin(dsn, ms, 'approve'), { store: /^file / });
  const [device] = ms.requestsTo(`/${ENTRA_CLIENT.tenant}/oauth2/v2.0/devicecode`);
  t.same(Object.fromEntries(new URLSearchParams(device!.body)), {
    scope: 'offline_access User.Read',
    client_id: ENTRA_CLIENT.clientId,
  });
  const polls = ms
    .requestsTo(`/${ENTRA_CLIENT.tenant}/oauth2/v2.0/token`)
    .map((r) => new URLSearchParams(r.body));
  t.equal(polls.length, 2, 'pending once, then the tokens');
  for (const form of polls) {
    t.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:device_code');
    t.equal(form.get('client_id'), ENTRA_CLIENT.clientId);
    t.equal(form.get('client_secret'), null, 'a public client sends no secret');
  }
  t.equal(ms.refreshTokens.length, 1);

  const proxy = await startSampleProxy(t, [dsn]);
  t.equal((await call(proxy.url('microsoft-graph', '/me'))).status, 200);

  t.match(
    await deviceLogin(dsn, ms, 'decline'),
    { code: 'TOKENSHIM_LOGIN', message: /declined at the verification page/ },
    "authorization_declined is Microsoft's access_denied",
  );
});

t.test(
  'login with PKCE as Microsoft documents it: S256 challenge, then the verifier and no secret',
  async (t) => {
    const ms = await graph(t);
    const { dsn } = await loadSample(
      t,
      'microsoft-graph.ini',
      'microsoft-graph',
      overrides(ms.origin),
    );
    await login(dsn);

    const [authorize] = ms.requestsTo(`/${ENTRA_CLIENT.tenant}/oauth2/v2.0/authorize`);
    const q = authorize!.url.searchParams;
    t.equal(q.get('response_type'), 'code');
    t.equal(q.get('client_id'), ENTRA_CLIENT.clientId);
    t.equal(q.get('code_challenge_method'), 'S256');
    t.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
    t.equal(q.get('scope'), 'offline_access User.Read');
    t.match(
      q.get('redirect_uri'),
      /^http:\/\/localhost:\d+\/$/,
      'http://localhost on the port login listened on',
    );

    const [token] = ms.requestsTo(`/${ENTRA_CLIENT.tenant}/oauth2/v2.0/token`);
    t.equal(token!.headers['content-type'], 'application/x-www-form-urlencoded');
    t.equal(token!.headers.authorization, undefined);
    const form = new URLSearchParams(token!.body);
    t.equal(form.get('grant_type'), 'authorization_code');
    t.equal(form.get('client_id'), ENTRA_CLIENT.clientId);
    t.equal(form.get('client_secret'), null);
    t.match(form.get('code_verifier'), /^[A-Za-z0-9._~-]{43,128}$/);
    t.equal(ms.refreshTokens.length, 1, 'offline_access brought a refresh token');
  },
);

t.test(
  'after login, the proxy lives on rotating refresh tokens: each refresh redeems the newest',
  async (t) => {
    const ms = await graph(t);
    const log = capturingLogger();
    const { dsn } = await loadSample(
      t,
      'microsoft-graph.ini',
      'microsoft-graph',
      overrides(ms.origin),
    );
    await login(dsn);
    // the rounds lie a rejection interval apart on the proxy's clock: a token rejected again
    // right after it replaced a rejected one is kept (one refresh per interval, not per 401)
    const clock = new FakeClock(Date.now());
    const proxy = await startSampleProxy(t, [dsn], { logger: log.logger, clock });

    const me = await call(proxy.url('microsoft-graph', '/me'));
    t.equal(me.status, 200);
    t.equal(me.json<{ userPrincipalName: string }>().userPrincipalName, 'user1@contoso.example');
    const refresh = new URLSearchParams(
      ms.requestsTo(`/${ENTRA_CLIENT.tenant}/oauth2/v2.0/token`)[1]!.body,
    );
    t.equal(refresh.get('grant_type'), 'refresh_token');
    t.equal(refresh.get('refresh_token'), ms.refreshTokens[0], 'the refresh token login stored');
    t.equal(
      refresh.get('scope'),
      'offline_access User.Read',
      'Scope re-sent on refresh (v2.0 wants it)',
    );
    t.equal(refresh.get('client_secret'), null);

    for (let round = 1; round <= 2; round++) {
      clock.advance(TOKEN_TIMING.rejectionIntervalMs);
      ms.expireAccessTokens();
      const again = await call(proxy.url('microsoft-graph', '/me'));
      t.equal(
        again.status,
        200,
        `round ${round}: 401 InvalidAuthenticationToken, refreshed, replayed`,
      );
    }
    t.same(
      ms.redeemed,
      ms.refreshTokens.slice(0, 3),
      'every refresh used the refresh token the previous one returned',
    );
    for (const secret of [...ms.refreshTokens, ...ms.issued])
      t.notOk(log.text().includes(secret), 'no token in the log');
  },
);

t.test(
  'Graph paging: @odata.nextLink comes back on the gateway, and following it stays on the proxy',
  async (t) => {
    const { ms, proxy } = await loggedInBehindProxy(t);
    const names: string[] = [];
    let next: string | undefined = proxy.url('microsoft-graph', '/users?$top=2');
    while (next !== undefined) {
      t.ok(next.startsWith(proxy.url('microsoft-graph', '/users?')), next);
      const page = await call(next);
      t.equal(page.status, 200);
      const body = page.json<{ '@odata.nextLink'?: string; value: { displayName: string }[] }>();
      names.push(...body.value.map((u) => u.displayName));
      next = body['@odata.nextLink'];
    }
    t.same(names, ['User 1', 'User 2', 'User 3', 'User 4', 'User 5']);
    t.equal(
      ms.requests.filter((r) => r.url.pathname === '/v1.0/users').length,
      3,
      'every page went through tokenshim to Graph, with the token',
    );
  },
);

t.test('joined pages: the one URL of samples/microsoft-graph.ini answers every user', async (t) => {
  const { ms, proxy } = await loggedInBehindProxy(t);
  const url = joinedUrl('microsoft-graph.ini', proxy.server.url, { $top: '2' });
  const res = await call(url);
  t.equal(res.status, 200);
  const users = res.json<{ displayName: string }[]>();
  t.same(
    users.map((u) => u.displayName),
    ['User 1', 'User 2', 'User 3', 'User 4', 'User 5'],
  );
  const pages = ms.requests.filter((r) => r.url.pathname === '/v1.0/users');
  t.equal(pages.length, 3, 'three pages of two, followed by tokenshim');
  t.notOk(
    pages.some((r) => r.target.includes('tokenshim')),
    'Graph never saw a tokenshim.* parameter',
  );
  t.equal(pages[0]!.url.searchParams.get('$select'), 'id,displayName,mail');
});

t.test(
  'without a login first: needs login, and the problem says which command fixes it',
  async (t) => {
    const ms = await graph(t);
    const { dsn } = await loadSample(
      t,
      'microsoft-graph.ini',
      'microsoft-graph',
      overrides(ms.origin),
    );
    const proxy = await startSampleProxy(t, [dsn]);
    const res = await call(proxy.url('microsoft-graph', '/me'));
    t.equal(res.status, 502);
    t.match(res.json(), {
      code: 'TOKENSHIM_NEEDS_LOGIN',
      dsn: 'microsoft-graph',
      detail: /tokenshim login microsoft-graph/,
    });
    t.equal(
      ms.requestsTo(`/${ENTRA_CLIENT.tenant}/oauth2/v2.0/token`).length,
      0,
      'nothing to redeem, nothing sent',
    );
  },
);
