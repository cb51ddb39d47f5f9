/**
 * The token engine when time goes wrong: an answer that comes after HeadersTimeout (the server
 * has rotated by then), a long outage, token lifetimes past the platform's timer limit, and a
 * process out of file descriptors.
 */
import t from 'tap';
import { Agent } from 'undici';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import type { TokenEvent } from '../../../lib/auth/token-events.js';
import { systemClock } from '../../../lib/clock.js';
import type { TokenshimError } from '../../../lib/errors.js';
import { startFaultTokenServer } from '../../fixtures/fault-token-server.js';
import { faultDsn, faultManager, faultRig, until } from './fault-harness.js';

const DAY = 24 * 3600_000;

t.test('a token answer later than HeadersTimeout', async (t) => {
  t.test(
    'is still read and saved: callers are told at the timeout, nothing is redeemed twice',
    async (t) => {
      const { ts, clock, store, rt, m } = await faultRig(t, {
        dsn: { headersTimeoutSeconds: 2 },
      });
      ts.setFault({ kind: 'hold' }, { times: 1 });
      const waiting = m.getToken();
      await ts.whenHeld(1);
      clock.advance(2_000);
      const err = (await waiting.catch((e: unknown) => e)) as TokenshimError;
      t.equal(err.code, 'TOKENSHIM_TOKEN_UNAVAILABLE');
      t.match(err.message, /has not answered within 2 s \(HeadersTimeout\)/);
      t.match(err.message, /still read and saved if it comes within 120 s/);
      const again = (await m.getToken().catch((e: unknown) => e)) as TokenshimError;
      t.equal(again.code, 'TOKENSHIM_TOKEN_UNAVAILABLE', 'later callers are told at once');
      t.equal(ts.tokenRequests, 1, 'and the spent refresh token is not presented again');

      clock.advance(60_000);
      ts.releaseHeld();
      await until('the late answer is taken', () => m.status().state === 'valid');
      const token = await m.getToken();
      t.equal(ts.chainOf(token.accessToken), rt);
      t.equal((await store.load('crm'))?.refreshToken, ts.latestRefreshToken(rt), 'and saved');
      t.equal(ts.tokenRequests, 1);
      t.equal(ts.reuse, 0);
    },
  );

  t.test('after the grace time the request is given up and retried later', async (t) => {
    const { ts, clock, m } = await faultRig(t, { dsn: { headersTimeoutSeconds: 2 } });
    ts.setFault({ kind: 'hold' }, { times: 1 });
    const waiting = m.getToken().catch((e: unknown) => e);
    await ts.whenHeld(1);
    clock.advance(2_000);
    await waiting;
    clock.advance(120_000);
    await until('the request is abandoned', () => m.status().state === 'failing');
    t.match(m.status().lastError, /did not answer within 122 s/);
  });
});

t.test(
  'after a long outage the endpoint is probed every few seconds while requests wait',
  async (t) => {
    const { ts, clock, m } = await faultRig(t);
    ts.setFault({ kind: 'status', status: 503 });
    // two minutes of outage with a request every second: the backoff grows to minutes
    let afterTwenty = 0;
    for (let s = 0; s < 120; s++) {
      if (s === 20) afterTwenty = ts.tokenRequests;
      await m.getToken().catch(() => undefined);
      clock.advance(1_000);
    }
    // the first few follow the shorter backoff (1, 2, 4 s); from then on one probe per 5 s
    const probes = ts.tokenRequests - afterTwenty;
    t.ok(probes >= 19 && probes <= 21, `one probe per 5 s (${probes} in the last 100 s)`);
    ts.clearFault();
    // the endpoint is back: a request within 5 s gets a token, not the rest of a 5-minute backoff
    let recoveredAfter: number | undefined;
    for (let s = 0; s <= 10; s++) {
      const ok = await m.getToken().then(
        () => true,
        () => false,
      );
      if (ok) {
        recoveredAfter = s;
        break;
      }
      clock.advance(1_000);
    }
    t.ok(
      recoveredAfter !== undefined && recoveredAfter <= 5,
      `recovered after ${recoveredAfter} s`,
    );
  },
);

t.test('a Retry-After longer than the probe interval is honoured', async (t) => {
  const { ts, clock, m } = await faultRig(t);
  ts.setFault({ kind: 'status', status: 429, retryAfterSeconds: 30 }, { times: 1 });
  await m.getToken().catch(() => undefined);
  clock.advance(10_000);
  await m.getToken().catch(() => undefined);
  t.equal(ts.tokenRequests, 1, 'no probe before the server said');
  clock.advance(20_000);
  await m.getToken();
  t.equal(ts.tokenRequests, 2);
});

t.test('tokens living 25 days or more', async (t) => {
  t.test('the refresh timer is clamped, not turned into a 1 ms loop', async (t) => {
    const ts = await startFaultTokenServer(t, { accessTokenSeconds: 30 * 24 * 3600 });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    t.teardown(() => void process.off('warning', onWarning));
    const m = faultManager(t, {
      dsn: faultDsn(ts, ts.issueRefreshToken()),
      store: new MemoryTokenStore(),
      clock: systemClock,
    });
    await m.getToken();
    await new Promise((resolve) => setTimeout(resolve, 30));
    t.notOk(warnings.includes('TimeoutOverflowWarning'), 'no timer overflow');
    t.equal(ts.tokenRequests, 1, 'no refresh loop');
  });

  t.test('a clamped timer that fires early waits again, then refreshes on time', async (t) => {
    const events: TokenEvent[] = [];
    const { ts, clock, m } = await faultRig(t, {
      accessTokenSeconds: 60 * 24 * 3600,
      onEvent: (e) => events.push(e),
    });
    await m.getToken();
    clock.advance(59 * DAY);
    t.equal(ts.tokenRequests, 1, 'not refreshed at the timer limit (24.8 days)');
    clock.advance(DAY);
    await until('the refresh ahead', () => ts.tokenRequests === 2);
    t.match(events.filter((e) => e.type === 'token_requested').at(-1), {
      trigger: 'ahead_of_expiry',
    });
  });
});

t.test('no file descriptors left: the error says so instead of blaming the network', async (t) => {
  const ts = await startFaultTokenServer(t);
  const exhausted = new Agent({
    connect: (_opts, callback) =>
      callback(
        Object.assign(new Error('connect EMFILE 127.0.0.1 - Local (undefined:undefined)'), {
          code: 'EMFILE',
          errno: -24,
          syscall: 'connect',
        }),
        null,
      ),
  });
  t.teardown(() => exhausted.close());
  const m = faultManager(t, {
    dsn: faultDsn(ts, ts.issueRefreshToken()),
    store: new MemoryTokenStore(),
    dispatcher: exhausted,
  });
  const err = (await m.getToken().catch((e: unknown) => e)) as TokenshimError;
  t.equal(err.code, 'TOKENSHIM_TOO_MANY_OPEN_FILES');
  t.match(err.message, /DSN "crm" cannot reach the token endpoint/);
  t.match(err.message, /no file descriptors left \(EMFILE.*ulimit -n/);
  t.notMatch(err.message, /check TokenURI/i);
  t.match(m.status(), { state: 'failing', lastError: /EMFILE/ });
});
