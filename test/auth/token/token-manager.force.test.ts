/**
 * Replacing the token on request (`tokenshim token --force`, POST /_tokenshim/refresh/<DSN>),
 * keeping one fresh with no traffic (Prefetch=1), and a serving process picking up a token
 * another process wrote to the shared store.
 */
import t from 'tap';
import { FileTokenStore } from '../../../lib/auth/stores/file-store.js';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import type { TokenEvent } from '../../../lib/auth/token-events.js';
import { startFaultTokenServer } from '../../fixtures/fault-token-server.js';
import { tempDir } from '../../fixtures/temp-config.js';
import { faultDsn, faultManager, faultRig, until } from './fault-harness.js';

t.test('forceRefresh replaces a valid token, saving the rotated refresh token first', async (t) => {
  const ts = await startFaultTokenServer(t);
  const store = new MemoryTokenStore();
  const rt = ts.issueRefreshToken();
  const events: TokenEvent[] = [];
  const m = faultManager(t, { dsn: faultDsn(ts, rt), store, onEvent: (e) => events.push(e) });
  const first = await m.getToken();
  const forced = await m.forceRefresh();
  t.not(forced.accessToken, first.accessToken, 'a new token although the old one was valid');
  t.equal((await m.getToken()).accessToken, forced.accessToken, 'used at once');
  const stored = await store.load('crm');
  t.equal(stored?.refreshToken, ts.latestRefreshToken(rt), 'the rotated refresh token is saved');
  t.equal(stored?.accessToken, forced.accessToken);
  t.match(
    events.filter((e) => e.type === 'token_requested').map((e) => e.trigger),
    ['on_demand', 'forced'],
  );
  t.equal(ts.reuse, 0);
});

t.test('forceRefresh while a refresh is under way waits for it, then makes its own', async (t) => {
  const { ts, m } = await faultRig(t);
  ts.setFault({ kind: 'hold' }, { times: 1 });
  const first = m.getToken();
  await ts.whenHeld(1);
  const forced = m.forceRefresh();
  ts.releaseHeld();
  const [a, b] = await Promise.all([first, forced]);
  t.not(b.accessToken, a.accessToken);
  t.equal(ts.tokenRequests, 2);
  t.equal(ts.reuse, 0, 'one redemption at a time');
});

t.test(
  'a serving process uses a token forced by another process at once (shared store)',
  async (t) => {
    const ts = await startFaultTokenServer(t);
    const path = `${tempDir(t).dir}/tokens.json`;
    const rt = ts.issueRefreshToken();
    const serving = faultManager(t, { dsn: faultDsn(ts, rt), store: new FileTokenStore(path) });
    const before = await serving.getToken();
    // `tokenshim token --force crm`: another process, its own store object on the same file
    const cli = faultManager(t, { dsn: faultDsn(ts, rt), store: new FileTokenStore(path) });
    const forced = await cli.forceRefresh();
    await cli.close();
    t.not(forced.accessToken, before.accessToken);
    await until(
      'the serving process takes the forced token',
      () => serving.tokenIfReady()?.accessToken === forced.accessToken,
    );
    // and its next refresh redeems the refresh token the other process saved: no reuse
    await serving.forceRefresh();
    t.equal(ts.reuse, 0);
    t.equal(ts.redeemed, 3);
  },
);

t.test(
  'a DSN that needs a login comes back as soon as `tokenshim login` writes the store',
  async (t) => {
    const ts = await startFaultTokenServer(t);
    const path = `${tempDir(t).dir}/tokens.json`;
    const serving = faultManager(t, {
      dsn: faultDsn(ts, undefined),
      store: new FileTokenStore(path),
    });
    await t.rejects(serving.getToken(), { code: 'TOKENSHIM_NEEDS_LOGIN' });
    const login = ts.issueRefreshToken();
    await new FileTokenStore(path).save('crm', { refreshToken: login, updatedAt: Date.now() });
    await until('the login is noticed', () => serving.status().state === 'empty');
    const token = await serving.getToken();
    t.equal(ts.chainOf(token.accessToken), login);
  },
);

t.test(
  'Prefetch: a token at start and kept fresh with no traffic; failures are not fatal',
  async (t) => {
    const events: TokenEvent[] = [];
    const { ts, clock, m } = await faultRig(t, {
      accessTokenSeconds: 600,
      dsn: { refreshMarginSeconds: 60 },
      onEvent: (e) => events.push(e),
    });
    ts.setFault({ kind: 'status', status: 503 }, { times: 2 });
    m.prefetch();
    await until('the first attempt fails', () => m.status().state === 'failing');
    t.match(m.status().lastError, /answered 503/, 'the failure shows in status');
    clock.advance(1_000);
    await until('the retry fails too', () => ts.tokenRequests === 2 && !isRefreshing(m));
    clock.advance(2_000);
    await until('the third attempt works', () => m.status().state === 'valid');
    t.same(
      events.filter((e) => e.type === 'token_requested').map((e) => e.trigger),
      ['prefetch', 'prefetch', 'prefetch'],
      'no caller asked',
    );
    // ten token lifetimes with no request at all: always a valid token
    for (let i = 0; i < 10; i++) {
      clock.advance(600_000);
      await until('refreshed ahead', () => m.status().state === 'valid');
      t.ok(m.tokenIfReady(), `lifetime ${i + 1}: a valid token is held`);
    }
    t.equal(ts.reuse, 0);
  },
);

function isRefreshing(m: { status(): { state: string } }): boolean {
  return m.status().state === 'refreshing';
}
