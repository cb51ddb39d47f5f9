/**
 * The token engine against a token endpoint that rotates single-use refresh tokens and counts
 * reuse (test/fixtures/fault-token-server.ts), with the faults an operator's machine produces: a
 * reload that replaces RefreshToken, a full disk, a damaged token file, an upstream that rejects
 * every token. The rule behind every test: a refresh token is never lost and never presented
 * twice.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { FileTokenStore } from '../../../lib/auth/stores/file-store.js';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import { FakeClock } from '../../../lib/clock.js';
import { DsnReloadedError, NeedsLoginError, type TokenshimError } from '../../../lib/errors.js';
import { capturingLogger } from '../../fixtures/capture-log.js';
import { FAULT_CLIENT, startFaultTokenServer } from '../../fixtures/fault-token-server.js';
import { tempDir } from '../../fixtures/temp-config.js';
import { faultDsn, faultManager, faultRig, fillableStore, until } from './fault-harness.js';

const HOUR = 3600_000;

t.test('reload with a new RefreshToken', async (t) => {
  t.test(
    'the retired manager makes no token request and writes nothing; the new chain is kept',
    async (t) => {
      const ts = await startFaultTokenServer(t);
      const path = `${tempDir(t).dir}/tokens.json`;
      const store = new FileTokenStore(path);
      const clock = new FakeClock(Date.now());
      const oldRt = ts.issueRefreshToken();
      const old = faultManager(t, { dsn: faultDsn(ts, oldRt), store, clock });
      const oldToken = await old.getToken();
      t.equal(ts.chainOf(oldToken.accessToken), oldRt);

      // the reload: the operator pasted a new RefreshToken; the old manager is retired at once
      const newRt = ts.issueRefreshToken();
      old.retire();
      // its own clock: the new manager's refresh ahead is not what this test watches
      const fresh = faultManager(t, { dsn: faultDsn(ts, newRt), store });
      const newToken = await fresh.getToken();
      t.equal(ts.chainOf(newToken.accessToken), newRt, 'the new DSN lives on the new chain');
      const requests = ts.tokenRequests;
      const stored = readFileSync(path, 'utf8');

      // a request still in flight on the old DSN keeps its token while it is valid...
      t.equal((await old.getToken()).accessToken, oldToken.accessToken);
      // ...but never gets another one: not after a rejection, not at expiry, not ahead of it
      t.equal(old.invalidate(oldToken.accessToken), true);
      await t.rejects(old.getToken(), DsnReloadedError);
      clock.advance(2 * HOUR);
      await t.rejects(old.getToken(), { code: 'TOKENSHIM_DSN_RELOADED', status: 503 });
      t.equal(ts.tokenRequests, requests, 'no token request from the retired manager');
      t.equal(readFileSync(path, 'utf8'), stored, 'and nothing written over the new chain');

      // kill -9 and restart with the new config: the new chain, no reuse, no old credential
      const restarted = faultManager(t, {
        dsn: faultDsn(ts, newRt),
        store: new FileTokenStore(path),
        clock: new FakeClock(Date.now() + 10 * HOUR),
      });
      const afterRestart = await restarted.getToken();
      t.equal(ts.chainOf(afterRestart.accessToken), newRt);
      t.equal(ts.reuse, 0, 'no refresh token presented twice');
    },
  );

  t.test(
    'a fetch of the retired manager waiting for the refresh lock never sends its request',
    async (t) => {
      const ts = await startFaultTokenServer(t);
      const store = new MemoryTokenStore();
      const oldRt = ts.issueRefreshToken();
      const old = faultManager(t, { dsn: faultDsn(ts, oldRt), store });
      let release!: () => void;
      const held = store.withRefreshLock(
        'crm',
        () => new Promise<void>((resolve) => (release = resolve)),
      );
      const waiting = old.getToken();
      await until('the fetch queues for the lock', () => old.status().state === 'refreshing');
      old.retire();
      release();
      await held;
      await t.rejects(waiting, DsnReloadedError);
      t.equal(ts.tokenRequests, 0);
    },
  );

  t.test(
    'an access token of the replaced chain in the store is not adopted by the new DSN',
    async (t) => {
      const ts = await startFaultTokenServer(t);
      const store = new MemoryTokenStore();
      const oldRt = ts.issueRefreshToken();
      const old = faultManager(t, { dsn: faultDsn(ts, oldRt), store });
      await old.getToken();
      old.retire();
      const newRt = ts.issueRefreshToken();
      const fresh = faultManager(t, { dsn: faultDsn(ts, newRt), store });
      const token = await fresh.getToken();
      t.equal(ts.chainOf(token.accessToken), newRt, 'its own token, not the replaced credential');
    },
  );

  t.test(
    'after a refusal, a chain of the replaced RefreshToken in the store is never resumed',
    async (t) => {
      const ts = await startFaultTokenServer(t);
      const store = new MemoryTokenStore();
      const oldRt = ts.issueRefreshToken();
      // the old chain wrote last (as a retired binding used to), and the new token is spent
      await faultManager(t, { dsn: faultDsn(ts, oldRt), store }).getToken();
      const newRt = ts.issueRefreshToken();
      await faultManager(t, { dsn: faultDsn(ts, newRt), store: new MemoryTokenStore() }).getToken();
      const before = ts.outcomes.length;
      const restarted = faultManager(t, { dsn: faultDsn(ts, newRt), store });
      await t.rejects(restarted.getToken(), NeedsLoginError);
      t.same(
        ts.outcomes.slice(before).map((o) => o.chain),
        [newRt],
        'only the configured chain was tried: the replaced credential is not quietly taken back',
      );
    },
  );
});

t.test(
  'a rotated refresh token that cannot be saved: kept, retried until saved, never redeemed again meanwhile',
  { skip: process.platform === 'linux' ? false : 'the disk-full store writes to /dev/full' },
  async (t) => {
    const ts = await startFaultTokenServer(t, { accessTokenSeconds: 60 });
    const disk = fillableStore(t);
    const clock = new FakeClock(Date.now());
    const rt = ts.issueRefreshToken();
    const log = capturingLogger('debug');
    const m = faultManager(t, {
      dsn: faultDsn(ts, rt, { refreshMarginSeconds: 0 }),
      store: disk.store,
      clock,
      logger: log.log,
    });
    await m.getToken();
    t.equal(m.status().unsaved, undefined);

    disk.full = true;
    clock.advance(60_000);
    const served = await m.getToken();
    t.equal(ts.redeemed, 2, 'the expired token was refreshed once');
    t.equal(
      ts.chainOf(served.accessToken),
      rt,
      'the access token that came with it is served: it does not depend on the save',
    );
    const status = m.status();
    t.match(status.unsaved, /holds a rotated refresh token that is not saved yet/);
    t.match(status.unsaved, /is full \(ENOSPC\)/);

    // that token expires too: no redemption while the rotated one is only in memory
    clock.advance(60_000);
    const err = (await m.getToken().catch((e: unknown) => e)) as TokenshimError;
    t.equal(err.code, 'TOKENSHIM_DISK_FULL');
    t.equal(err.status, 503);
    t.match(err.message, /redeems no refresh token/);
    t.equal(ts.redeemed, 2, 'not redeemed again');

    // the save is retried in the background; once the disk has room it goes through
    disk.full = false;
    clock.advance(20_000);
    await until('the owed save is written', () => m.status().unsaved === undefined);
    const onDisk = JSON.parse(readFileSync(disk.path, 'utf8')) as {
      entries: Record<string, { refreshToken: string }>;
    };
    t.equal(onDisk.entries['crm']?.refreshToken, ts.latestRefreshToken(rt), 'the newest is saved');

    clock.advance(60_000);
    await m.getToken();
    t.equal(ts.redeemed, 3);
    // a restart from the file: no reuse
    const restarted = faultManager(t, {
      dsn: faultDsn(ts, rt),
      store: new FileTokenStore(disk.path),
      clock: new FakeClock(Date.now() + 10 * HOUR),
    });
    await restarted.getToken();
    t.equal(ts.reuse, 0, 'no refresh token presented twice');

    const logged = log.lines.join('\n');
    t.match(logged, /could not save the rotated refresh token/, 'the failed save is logged');
    t.match(logged, /the rotated refresh token is saved now/, 'and its recovery');
    t.notMatch(logged, /\b(rt|at)-\d+-\d+\b/, 'no refresh or access token in the log');
    t.notMatch(logged, FAULT_CLIENT.secret, 'nor the client secret');
  },
);

t.test(
  'the token file damaged while running: the DSN keeps working and the file is rewritten',
  async (t) => {
    const ts = await startFaultTokenServer(t, { accessTokenSeconds: 60 });
    const path = `${tempDir(t).dir}/tokens.json`;
    const clock = new FakeClock(Date.now());
    const rt = ts.issueRefreshToken();
    const m = faultManager(t, {
      dsn: faultDsn(ts, rt, { refreshMarginSeconds: 0 }),
      store: new FileTokenStore(path),
      clock,
    });
    await m.getToken();
    for (const damage of ['garbage!', '', '{"entries": {"crm": {"refresh']) {
      writeFileSync(path, damage);
      clock.advance(60_000);
      const token = await m.getToken();
      t.equal(ts.chainOf(token.accessToken), rt, `${JSON.stringify(damage)}: still served`);
      const onDisk = JSON.parse(readFileSync(path, 'utf8')) as {
        entries: Record<string, { refreshToken: string }>;
      };
      t.equal(onDisk.entries['crm']?.refreshToken, ts.latestRefreshToken(rt), 'rewritten');
    }
    const restarted = faultManager(t, {
      dsn: faultDsn(ts, rt),
      store: new FileTokenStore(path),
      clock: new FakeClock(Date.now() + 10 * HOUR),
    });
    await restarted.getToken();
    t.equal(ts.reuse, 0);
  },
);

t.test('an upstream that rejects every token', async (t) => {
  t.test(
    'one drop per rejection interval: a replay’s rejection keeps the fresh token',
    async (t) => {
      const { ts, clock, m } = await faultRig(t);
      const first = await m.getToken();
      t.equal(m.invalidate(first.accessToken), true, 'the first rejection drops the token');
      const fresh = await m.getToken();
      t.equal(ts.tokenRequests, 2);
      t.equal(m.invalidate(fresh.accessToken), false, 'the replay is rejected too: kept');
      for (let i = 0; i < 10; i++) {
        t.equal(m.invalidate(fresh.accessToken), false);
        t.equal((await m.getToken()).accessToken, fresh.accessToken);
      }
      t.equal(ts.tokenRequests, 2, 'no more token requests');
      clock.advance(5_000);
      t.equal(
        m.invalidate(fresh.accessToken),
        true,
        'after the interval, a rejection counts again',
      );
      await m.getToken();
      t.equal(ts.tokenRequests, 3);
    },
  );

  t.test('a rejected access token is not loaded from the store after a restart', async (t) => {
    const ts = await startFaultTokenServer(t);
    const path = `${tempDir(t).dir}/tokens.json`;
    const rt = ts.issueRefreshToken();
    const store = new FileTokenStore(path);
    const m = faultManager(t, { dsn: faultDsn(ts, rt), store });
    const rejected = await m.getToken();
    m.invalidate(rejected.accessToken);
    await until(
      'the store entry loses the rejected token',
      () => !readFileSync(path, 'utf8').includes(rejected.accessToken),
    );
    const entry = (await new FileTokenStore(path).load('crm'))!;
    t.equal(entry.refreshToken, ts.latestRefreshToken(rt), 'the refresh token is kept');

    const restarted = faultManager(t, { dsn: faultDsn(ts, rt), store: new FileTokenStore(path) });
    const token = await restarted.getToken();
    t.not(token.accessToken, rejected.accessToken, 'a new token, not the rejected one');
    t.equal(ts.reuse, 0);
  });
});
