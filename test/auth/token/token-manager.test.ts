/**
 * The token lifecycle against a real OAuth server (oidc-provider, rotating refresh tokens) with an
 * injected clock: oidc-provider keeps real time, tokenshim's clock is moved by hand.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { FileTokenStore } from '../../../lib/auth/stores/file-store.js';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import type { StoredTokens, TokenStore } from '../../../lib/auth/stores/token-store.js';
import type { TokenEvent } from '../../../lib/auth/token-events.js';
import { TokenManager, type TokenManagerOptions } from '../../../lib/auth/token/token-manager.js';
import { FakeClock } from '../../../lib/clock.js';
import type { DsnConfig } from '../../../lib/config/dsn.js';
import { NeedsLoginError, type TokenshimError } from '../../../lib/errors.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { CLIENTS, startOAuthServer, type OAuthServer } from '../../fixtures/oauth-server.js';
import { loopbackDispatcher } from '../../fixtures/loopback-dispatcher.js';

const SCOPE = 'openid offline_access api';

function refreshDsn(
  server: OAuthServer,
  refreshToken: string,
  o: Partial<Omit<DsnConfig, 'method'>> = {},
): DsnConfig {
  return makeDsn({
    name: 'crm',
    method: 54,
    grantType: 'refresh_token',
    clientId: CLIENTS.basic.clientId,
    clientSecret: CLIENTS.basic.clientSecret,
    refreshToken,
    scope: SCOPE,
    tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
    ...o,
  });
}

function manager(
  t: Test,
  opts: Omit<TokenManagerOptions, 'clock' | 'dispatcher'> & { clock?: FakeClock },
): TokenManager {
  const m = new TokenManager({
    clock: new FakeClock(Date.now()),
    random: () => 0.5,
    dispatcher: loopbackDispatcher(t),
    ...opts,
  });
  t.teardown(() => m.close());
  return m;
}

/** resolves when the manager reports a token fetched */
function nextFetched(events: TokenEvent[]): Promise<TokenEvent> {
  const seen = events.length;
  return new Promise((resolve) => {
    const poll = (): void => {
      const e = events
        .slice(seen)
        .find((x) => x.type === 'token_fetched' || x.type === 'token_fetch_failed');
      if (e) resolve(e);
      else setImmediate(poll);
    };
    poll();
  });
}

t.test('refresh_token grant (54) against oidc-provider', async (t) => {
  const server = await startOAuthServer();
  t.teardown(() => server.close());

  t.test(
    'client_secret_basic with a secret full of reserved characters; scope re-sent',
    async (t) => {
      const rt = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
      const store = new MemoryTokenStore();
      const m = manager(t, { dsn: refreshDsn(server, rt), store });
      const token = await m.getToken();
      t.equal(token.tokenType, 'Bearer');
      const last = server.grants.at(-1)!;
      t.same(
        [last.grantType, last.clientAuthMethod, last.scope, last.error],
        ['refresh_token', 'client_secret_basic', SCOPE, undefined],
      );
      const stored = await store.load('crm');
      t.not(stored?.refreshToken, rt, 'the rotated refresh token was stored');
      t.equal(stored?.accessToken, token.accessToken);
      t.equal(m.status().state, 'valid');
    },
  );

  t.test('client_secret_post (ClientCredentialsMode=3)', async (t) => {
    const rt = await server.issueRefreshToken(CLIENTS.post.clientId, SCOPE);
    const dsn = refreshDsn(server, rt, {
      clientId: CLIENTS.post.clientId,
      clientSecret: CLIENTS.post.clientSecret,
      clientCredentialsMode: 3,
    });
    await manager(t, { dsn, store: new MemoryTokenStore() }).getToken();
    t.equal(server.grants.at(-1)?.clientAuthMethod, 'client_secret_post');
    t.equal(server.grants.at(-1)?.error, undefined);
  });

  t.test('1,000 concurrent getToken calls at expiry cause exactly one token request', async (t) => {
    const rt = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
    const clock = new FakeClock(Date.now());
    const events: TokenEvent[] = [];
    // RefreshMargin=0: no refresh ahead, so the callers at expiry are the ones who fetch
    const m = manager(t, {
      dsn: refreshDsn(server, rt, { refreshMarginSeconds: 0 }),
      store: new MemoryTokenStore(),
      clock,
      onEvent: (e) => events.push(e),
    });
    const first = await Promise.all(Array.from({ length: 1000 }, () => m.getToken()));
    t.equal(new Set(first.map((x) => x.accessToken)).size, 1, 'cold start: one token for all');
    t.equal(m.status().tokenRequests, 1);
    const before = server.tokenRequests;

    clock.advance(3600 * 1000);
    t.equal(m.status().state, 'expired', 'nothing refreshed it ahead');
    const callers = Array.from({ length: 1000 }, () => m.getToken());
    const tokens = await Promise.all(callers);
    t.equal(server.tokenRequests - before, 1, 'one request reached the server');
    t.equal(new Set(tokens.map((x) => x.accessToken)).size, 1);
    t.not(tokens[0]!.accessToken, first[0]!.accessToken, 'a new token');
    t.ok(tokens[0]!.expiresAt > clock.now(), 'none of them expired');
    t.same(
      events.filter((e) => e.type === 'token_requested').map((e) => e.trigger),
      ['on_demand', 'on_demand'],
      'both requests were made on demand',
    );
  });

  t.test(
    'refresh ahead of expiry with no caller waiting; callers keep the valid token',
    async (t) => {
      const rt = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
      const clock = new FakeClock(Date.now());
      const events: TokenEvent[] = [];
      const dsn = refreshDsn(server, rt, { refreshMarginSeconds: 300 });
      const m = manager(t, {
        dsn,
        store: new MemoryTokenStore(),
        clock,
        onEvent: (e) => events.push(e),
      });
      const first = await m.getToken();
      t.equal(first.expiresAt - first.obtainedAt, 3600_000);

      clock.advance(3000 * 1000);
      t.equal(m.status().tokenRequests, 1, 'no refresh before the margin');
      t.equal((await m.getToken()).accessToken, first.accessToken);

      const fetched = nextFetched(events);
      clock.advance(300 * 1000); // 300 s left: the timer fires, nobody is calling
      t.equal(m.status().state, 'refreshing');
      t.equal(
        (await m.getToken()).accessToken,
        first.accessToken,
        'the valid token is served while refreshing',
      );
      t.match(await fetched, {
        type: 'token_fetched',
        trigger: 'ahead_of_expiry',
        refreshTokenRotated: true,
      });
      const second = await m.getToken();
      t.not(second.accessToken, first.accessToken);
      t.equal(m.status().tokenRequests, 2);
      t.match(
        events.map((e) => [e.type, e.trigger]),
        [
          ['token_requested', 'on_demand'],
          ['token_fetched', 'on_demand'],
          ['token_requested', 'ahead_of_expiry'],
          ['token_fetched', 'ahead_of_expiry'],
        ],
      );
    },
  );

  t.test('a refresh margin above a tenth of the lifetime is capped there', async (t) => {
    const short = await startOAuthServer({ accessTokenTtlSeconds: 60 });
    t.teardown(() => short.close());
    const rt = await short.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
    const clock = new FakeClock(Date.now());
    const events: TokenEvent[] = [];
    const m = manager(t, {
      dsn: refreshDsn(short, rt, { refreshMarginSeconds: 300 }),
      store: new MemoryTokenStore(),
      clock,
      onEvent: (e) => events.push(e),
    });
    await m.getToken();
    clock.advance(53_990);
    t.equal(m.status().tokenRequests, 1, 'not at half the lifetime: 6 s before expiry');
    const fetched = nextFetched(events);
    clock.advance(10);
    t.match(await fetched, { type: 'token_fetched', trigger: 'ahead_of_expiry' });
  });

  t.test('timers stalled by sleep: expiry is checked on every call', async (t) => {
    const rt = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
    let now = Date.now();
    // a clock whose timers never fire, like a laptop lid closed past expiry
    const stalled = { now: () => now, setTimeout: () => ({}), clearTimeout: () => undefined };
    const m = new TokenManager({
      dispatcher: loopbackDispatcher(t),
      dsn: refreshDsn(server, rt),
      store: new MemoryTokenStore(),
      clock: stalled,
    });
    t.teardown(() => m.close());
    const first = await m.getToken();
    now += 2 * 3600 * 1000;
    const second = await m.getToken();
    t.not(second.accessToken, first.accessToken, 'an expired token is never handed out');
    t.ok(second.expiresAt > now);
  });

  t.test('invalidate: many reports of one rejected token cause one refresh', async (t) => {
    const rt = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
    const m = manager(t, { dsn: refreshDsn(server, rt), store: new MemoryTokenStore() });
    const first = await m.getToken();
    const answers = Array.from({ length: 100 }, () => m.invalidate(first.accessToken));
    t.ok(answers.every(Boolean), 'a fresh token may help every one of them');
    const tokens = await Promise.all(Array.from({ length: 100 }, () => m.getToken()));
    t.equal(m.status().tokenRequests, 2);
    t.equal(new Set(tokens.map((x) => x.accessToken)).size, 1);
    t.not(tokens[0]!.accessToken, first.accessToken);
    t.equal(m.invalidate(first.accessToken), true, 'a late report of the old token');
    await m.getToken();
    t.equal(
      m.status().tokenRequests,
      2,
      'a late report of the old token does not drop the new one',
    );
  });

  t.test(
    'the rotated refresh token is saved before the new access token is handed out',
    async (t) => {
      const rt = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
      const inner = new MemoryTokenStore();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const saved: StoredTokens[] = [];
      const store: TokenStore = {
        description: 'gated',
        load: (k) => inner.load(k),
        save: async (k, v) => {
          await gate;
          saved.push(v);
          await inner.save(k, v);
        },
        withRefreshLock: (k, fn) => inner.withRefreshLock(k, fn),
        close: async () => undefined,
      };
      const m = manager(t, { dsn: refreshDsn(server, rt), store });
      let handedOut = false;
      const n = server.grants.length;
      const pending = m.getToken().then((tok) => {
        handedOut = true;
        return tok;
      });
      while (server.grants.length === n) await new Promise((r) => setTimeout(r, 2));
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      t.equal(handedOut, false, 'not handed out while the save is pending');
      release();
      const token = await pending;
      t.equal(saved.length, 1);
      t.equal(saved[0]?.accessToken, token.accessToken);
      t.ok(saved[0]?.refreshToken && saved[0].refreshToken !== rt);
    },
  );
});

t.test('restart after a rotation: the stored refresh token wins over the ini', async (t) => {
  const server = await startOAuthServer();
  t.teardown(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-restart-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'odbc.ini.tokens.json');
  const iniRefreshToken = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
  const dsn = refreshDsn(server, iniRefreshToken);

  const dispatcher = loopbackDispatcher(t);
  const first = new TokenManager({
    dispatcher,
    dsn,
    store: new FileTokenStore(file),
    clock: new FakeClock(Date.now()),
  });
  const a = await first.getToken();
  await first.close();
  const rotated = (await new FileTokenStore(file).load('crm'))?.refreshToken;
  t.ok(rotated && rotated !== iniRefreshToken, 'the first run rotated and saved the refresh token');

  // the restart: same ini (still the original refresh token), same token file, and the stored
  // access token invalidated so a refresh is really needed
  const clock = new FakeClock(Date.now() + 3600_000);
  const second = new TokenManager({ dispatcher, dsn, store: new FileTokenStore(file), clock });
  t.teardown(() => second.close());
  const b = await second.getToken();
  t.not(b.accessToken, a.accessToken);
  t.equal(server.grants.at(-1)?.error, undefined, 'the stored refresh token was accepted');

  // the ini's original refresh token has been consumed: using it now fails as in production
  const fresh = new TokenManager({
    dispatcher,
    dsn,
    store: new MemoryTokenStore(),
    clock: new FakeClock(Date.now()),
  });
  t.teardown(() => fresh.close());
  const err = await fresh.getToken().catch((e: unknown) => e);
  t.type(err, NeedsLoginError);
  t.equal(server.grants.at(-1)?.error, 'invalid_grant');
});

t.test('a new RefreshToken pasted into the ini wins over the stored one', async (t) => {
  const server = await startOAuthServer();
  t.teardown(() => server.close());
  const store = new MemoryTokenStore();
  const old = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
  const m1 = manager(t, { dsn: refreshDsn(server, old), store });
  await m1.getToken();
  await m1.close();

  const pasted = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
  const m2 = manager(t, {
    dsn: refreshDsn(server, pasted),
    store,
    clock: new FakeClock(Date.now() + 7200_000),
  });
  await m2.getToken();
  t.equal(server.grants.at(-1)?.error, undefined);
  const stored = await store.load('crm');
  t.not(stored?.refreshToken, pasted, 'the pasted token was redeemed (and rotated)');
  t.ok(stored?.configRefreshTokenHash, 'the entry remembers which ini value it descends from');
});

t.test(
  'invalid_grant: needs login, no retry loop, until a login stores a new refresh token',
  async (t) => {
    const server = await startOAuthServer();
    t.teardown(() => server.close());
    const store = new MemoryTokenStore();
    const clock = new FakeClock(Date.now());
    const events: TokenEvent[] = [];
    const m = manager(t, {
      dsn: refreshDsn(server, 'not-a-real-refresh-token'),
      store,
      clock,
      onEvent: (e) => events.push(e),
    });
    const err = await m.getToken().catch((e: unknown) => e);
    t.type(err, NeedsLoginError);
    t.match(
      (err as NeedsLoginError).message,
      /DSN "crm" needs a new login.*invalid_grant.*tokenshim login crm/,
    );
    t.equal((err as NeedsLoginError).code, 'TOKENSHIM_NEEDS_LOGIN');
    t.equal(m.status().state, 'needs-login');
    t.match(events.at(-1), {
      type: 'token_fetch_failed',
      reason: 'oauth_error',
      terminal: true,
      httpStatus: 400,
    });

    const requests = server.tokenRequests;
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      t.type(await m.getToken().catch((e: unknown) => e), NeedsLoginError);
    }
    t.equal(server.tokenRequests, requests, 'no further token requests');
    t.equal(clock.pending, 0, 'no retry timer');

    // `tokenshim login crm` writes a new refresh token to the store, saying which configured
    // RefreshToken it replaces (browser-login.ts)
    await store.save('crm', {
      refreshToken: await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE),
      configRefreshTokenHash: sha256('not-a-real-refresh-token'),
      updatedAt: clock.now(),
    });
    clock.advance(5_000);
    const token = await m.getToken();
    t.ok(token.accessToken);
    t.equal(m.status().state, 'valid');
  },
);

t.test('no refresh token at all: needs login without a request', async (t) => {
  const server = await startOAuthServer();
  t.teardown(() => server.close());
  const m = manager(t, { dsn: refreshDsn(server, ''), store: new MemoryTokenStore() });
  const err = await m.getToken().catch((e: unknown) => e);
  t.type(err, NeedsLoginError);
  t.match((err as Error).message, /RefreshToken is not set/);
  t.equal(server.tokenRequests, 0);
});

t.test('several instances sharing one store', async (t) => {
  const server = await startOAuthServer();
  t.teardown(() => server.close());

  t.test(
    "a refresh under the lock takes the other instance's fresh token instead of racing",
    async (t) => {
      const store = new MemoryTokenStore();
      const rt = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
      const clockA = new FakeClock(Date.now());
      const clockB = new FakeClock(Date.now());
      const a = manager(t, { dsn: refreshDsn(server, rt), store, clock: clockA });
      const b = manager(t, { dsn: refreshDsn(server, rt), store, clock: clockB });
      const tokenA = await a.getToken();
      const before = server.tokenRequests;
      const tokenB = await b.getToken();
      t.equal(tokenB.accessToken, tokenA.accessToken, 'B used the token A had just stored');
      t.equal(server.tokenRequests, before, 'B sent no token request');

      clockA.advance(3600_000);
      clockB.advance(3600_000);
      const [a2, b2] = await Promise.all([a.getToken(), b.getToken()]);
      t.equal(a2.accessToken, b2.accessToken);
      t.equal(server.tokenRequests - before, 1, 'one refresh for both instances');
      t.equal(
        server.grants.filter((g) => g.error).length,
        0,
        'no refresh token was redeemed twice',
      );
    },
  );

  t.test(
    'after invalid_grant the store is read once more: a newer refresh token is retried',
    async (t) => {
      // `tokenshim login` (or another instance) stored a good refresh token, but this instance's
      // reads raced it: its first two reads (start, and inside the lock) saw nothing
      const good = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
      const inner = new MemoryTokenStore();
      await inner.save('crm', {
        refreshToken: good,
        configRefreshTokenHash: sha256('stale-token'),
        updatedAt: 0,
      });
      let staleReads = 2;
      const store: TokenStore = {
        description: 'racy',
        load: async (k) => (staleReads-- > 0 ? undefined : inner.load(k)),
        save: (k, v) => inner.save(k, v),
        withRefreshLock: (k, fn) => inner.withRefreshLock(k, fn),
        close: async () => undefined,
      };
      const n = server.grants.length;
      const m = manager(t, { dsn: refreshDsn(server, 'stale-token'), store });
      const token = await m.getToken();
      t.ok(token.accessToken);
      t.same(
        server.grants.slice(n).map((g) => g.error),
        ['invalid_grant', undefined],
        'refused once, then the stored token worked',
      );
      t.equal(m.status().state, 'valid');
    },
  );
});

function sha256(v: string): string {
  return createHash('sha256').update(v).digest('hex');
}

t.test('an aborted caller stops waiting; the shared request still serves the others', async (t) => {
  const { createServer } = await import('node:http');
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let requests = 0;
  const slow = createServer((_req, res) => {
    requests++;
    void held.then(() =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"access_token":"slow","expires_in":60}'),
    );
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => slow.close(() => r())));
  const port = (slow.address() as { port: number }).port;
  const m = manager(t, {
    dsn: makeDsn({
      method: 53,
      clientId: 'c',
      clientSecret: 's',
      tokenEndpoint: { method: 'POST', url: new URL(`http://127.0.0.1:${port}/token`) },
    }),
    store: new MemoryTokenStore(),
  });
  const controller = new AbortController();
  const aborted = m.getToken({ signal: controller.signal });
  const patient = m.getToken();
  while (requests === 0) await new Promise((r) => setTimeout(r, 2));
  controller.abort(new Error('client went away'));
  await t.rejects(aborted, { message: 'client went away' });
  release();
  t.equal((await patient).accessToken, 'slow');
  t.equal(requests, 1);
  const pre = new AbortController();
  pre.abort(new Error('already gone'));
  await t.rejects(m.getToken({ signal: pre.signal }), { message: 'already gone' });
});

t.test('a token store that breaks: no refresh token is redeemed without it', async (t) => {
  const server = await startOAuthServer();
  t.teardown(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-broken-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tokens.json');
  const rt = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
  const clock = new FakeClock(Date.now());
  const events: TokenEvent[] = [];
  const m = manager(t, {
    dsn: refreshDsn(server, rt),
    store: new FileTokenStore(file),
    clock,
    onEvent: (e) => events.push(e),
  });
  await m.getToken();
  const requests = server.tokenRequests;
  // unreadable, not merely damaged (a damaged file is written again from memory: the fault tests)
  rmSync(file);
  mkdirSync(file);
  clock.advance(3600_000);
  const err = (await m.getToken().catch((e: unknown) => e)) as TokenshimError;
  t.equal(err.code, 'TOKENSHIM_TOKEN_STORE');
  t.match(err.message, file);
  t.equal(server.tokenRequests, requests, 'the refresh token was not redeemed');
  t.match(events.at(-1), { type: 'token_fetch_failed', reason: 'store', terminal: false });
});

t.test(
  'a failed save: the rotated token is kept in memory, never swapped for the spent one on disk',
  async (t) => {
    const server = await startOAuthServer();
    t.teardown(() => server.close());
    const rt = await server.issueRefreshToken(CLIENTS.basic.clientId, SCOPE);
    const clock = new FakeClock(Date.now());
    const inner = new MemoryTokenStore();
    await inner.save('crm', {
      refreshToken: rt,
      configRefreshTokenHash: sha256(rt),
      updatedAt: clock.now() - 60_000,
    });
    let failNextSave = true;
    const store: TokenStore = {
      description: 'flaky disk',
      load: (k) => inner.load(k),
      save: async (k, v) => {
        if (failNextSave) {
          failNextSave = false;
          throw new Error('ENOSPC: no space left on device');
        }
        await inner.save(k, v);
      },
      withRefreshLock: (k, fn) => inner.withRefreshLock(k, fn),
      close: async () => undefined,
    };
    const m = manager(t, { dsn: refreshDsn(server, rt), store, clock });
    await m.getToken();
    t.equal(
      (await inner.load('crm'))?.refreshToken,
      rt,
      'the save failed: the disk still has the spent token',
    );
    clock.advance(3600_000);
    await m.getToken();
    t.same(
      server.grants.map((g) => g.error),
      [undefined, undefined],
      'the second refresh used the rotated token from memory, not the spent one',
    );
    t.not((await inner.load('crm'))?.refreshToken, rt, 'and saved its successor this time');
  },
);

t.test(
  'short-lived tokens: never handed out in the second a truncating server may already count',
  async (t) => {
    // oidc-provider stamps exp = floor(now) + ttl: a 2 s token may die 1 s after it was asked for
    const server = await startOAuthServer({ accessTokenTtlSeconds: 2 });
    t.teardown(() => server.close());
    const clock = new FakeClock(Date.now());
    const events: TokenEvent[] = [];
    const m = manager(t, {
      dsn: makeDsn({
        method: 53,
        clientId: CLIENTS.basic.clientId,
        clientSecret: CLIENTS.basic.clientSecret,
        tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
      }),
      store: new MemoryTokenStore(),
      clock,
      onEvent: (e) => events.push(e),
    });
    const first = await m.getToken();
    t.equal(first.expiresAt, first.obtainedAt + 2000, 'expires_in as the server said it');
    // the fake clock stood still during the fetch: the lead is its minimum, 20 ms
    clock.advance(979);
    t.equal((await m.getToken()).accessToken, first.accessToken);
    t.equal(m.status().tokenRequests, 1, 'no refresh yet');
    const fetched = nextFetched(events);
    clock.advance(1); // refresh ahead starts 20 ms before the second is up
    t.equal(m.status().state, 'refreshing');
    t.equal((await m.getToken()).accessToken, first.accessToken, 'the old token meanwhile');
    t.match(await fetched, { type: 'token_fetched', trigger: 'ahead_of_expiry' });
    clock.advance(20);
    t.not((await m.getToken()).accessToken, first.accessToken, 'from then on, only the new token');
    t.equal(m.status().tokenRequests, 2);
  },
);

/** A store whose saves take `ms` on the manager's clock: a token fetch that takes that long. */
class SlowStore extends MemoryTokenStore {
  constructor(
    private readonly clock: FakeClock,
    public ms: number,
  ) {
    super();
  }
  override async save(key: string, tokens: StoredTokens): Promise<void> {
    this.clock.advance(this.ms);
    return super.save(key, tokens);
  }
}

t.test('refresh ahead leaves room for the fetch, measured from the last one', async (t) => {
  const server = await startOAuthServer({ accessTokenTtlSeconds: 60 });
  t.teardown(() => server.close());
  const dsn = makeDsn({
    method: 53,
    clientId: CLIENTS.basic.clientId,
    clientSecret: CLIENTS.basic.clientSecret,
    tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
    refreshMarginSeconds: 3,
  });
  /** ms after a token was obtained at which the background refresh starts, for a fetch of `ms` */
  const refreshStartsAfter = async (ms: number): Promise<number> => {
    const clock = new FakeClock(Date.now());
    const events: TokenEvent[] = [];
    const m = manager(t, {
      dsn,
      store: new SlowStore(clock, ms),
      clock,
      onEvent: (e) => events.push(e),
    });
    const first = await m.getToken();
    const elapsed = clock.now() - first.obtainedAt;
    for (let step = 0; step < 60_000; step += 10) {
      clock.advance(10);
      m.tokenIfReady();
      if (m.status().state === 'refreshing') return clock.now() - first.obtainedAt;
    }
    throw new Error(
      `no refresh ahead within a lifetime (fetch of ${ms} ms, ${elapsed} ms elapsed)`,
    );
  };
  // 60 s tokens with RefreshMargin=3: refreshed with 3 s left (57 s), but handed out only until
  // 55 s (5 s for the trip upstream): the refresh must start `lead` before 55 s, at most 6 s before
  const fast = await refreshStartsAfter(0);
  const slow = await refreshStartsAfter(500);
  const slowest = await refreshStartsAfter(5_000);
  t.equal(fast, 54_980, 'a fast endpoint: the minimum lead, 20 ms');
  t.equal(slow, 53_500, 'a 500 ms fetch: three fetches before the token stops being used');
  t.equal(slowest, 49_000, 'a 5 s fetch: never more than a tenth of the lifetime early');
});
