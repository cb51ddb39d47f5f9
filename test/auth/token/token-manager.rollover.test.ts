/**
 * Issue 6: token rollover without waiting. A loopback token endpoint holds each answer until the
 * fake clock has moved by the endpoint's latency, so a token fetch "takes" that long in
 * tokenshim's time; the manager is probed through its synchronous fast path (`tokenIfReady()`,
 * what the proxy calls per request) every few milliseconds of fake time.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import { TokenManager } from '../../../lib/auth/token/token-manager.js';
import { handOutDeadline, refreshAt } from '../../../lib/auth/token/token-timing.js';
import { FakeClock } from '../../../lib/clock.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { loopbackDispatcher } from '../../fixtures/loopback-dispatcher.js';

interface HeldRequest {
  /** fake time at which the request reached the endpoint */
  readonly receivedAt: number;
  readonly res: ServerResponse;
}

/** A client_credentials token endpoint whose answers wait until the test releases them. */
async function heldTokenEndpoint(
  t: Test,
  clock: FakeClock,
): Promise<{ url: URL; held: HeldRequest[]; received: number[] }> {
  const held: HeldRequest[] = [];
  const received: number[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(clock.now());
      held.push({ receivedAt: clock.now(), res });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { url: new URL(`http://127.0.0.1:${port}/token`), held, received };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 5_000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`timed out waiting until ${what}`);
}

interface Rollover {
  /** fake times (ms after the start) at which token requests reached the endpoint */
  readonly requestsAt: number[];
  /** fake times (ms after the start) at which the fast path had no token to hand out */
  readonly waits: number[];
  /** fake times (ms after the start) at which a token past its last usable moment was handed out */
  readonly stale: number[];
}

/**
 * Runs one manager for `seconds` of fake time against an endpoint answering after `latencyMs(n)`
 * (n: the request's index), probing `tokenIfReady()` every `stepMs`.
 */
async function rollover(
  t: Test,
  opts: {
    lifetimeSeconds: number;
    seconds: number;
    latencyMs: (request: number) => number;
    stepMs?: number;
    refreshMarginSeconds?: number;
  },
): Promise<Rollover> {
  const stepMs = opts.stepMs ?? 10;
  const clock = new FakeClock(Date.now());
  const start = clock.now();
  const endpoint = await heldTokenEndpoint(t, clock);
  const m = new TokenManager({
    dispatcher: loopbackDispatcher(t),
    dsn: makeDsn({
      name: 'rollover',
      method: 53,
      clientId: 'c',
      clientSecret: 's',
      refreshMarginSeconds: opts.refreshMarginSeconds ?? 300,
      tokenEndpoint: { method: 'POST', url: endpoint.url },
    }),
    store: new MemoryTokenStore(),
    clock,
    random: () => 0.5,
  });
  t.teardown(() => m.close());

  let answered = 0;
  // a fetch in flight first reaches the endpoint (real I/O, fake time stands still), then is
  // answered once its latency has passed on the fake clock
  const sync = async (): Promise<void> => {
    if (m.status().state === 'refreshing' && endpoint.held.length === 0) {
      await until('the token request reaches the endpoint', () => endpoint.held.length > 0);
    }
    const due = endpoint.held[0];
    if (due && clock.now() - due.receivedAt >= opts.latencyMs(answered)) {
      endpoint.held.shift();
      answered++;
      due.res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          access_token: `token-${answered}`,
          token_type: 'Bearer',
          expires_in: opts.lifetimeSeconds,
        }),
      );
      await until('the token is in hand', () => m.status().state !== 'refreshing');
    }
  };

  const first = m.getToken();
  await until('the first token request reaches the endpoint', () => endpoint.held.length > 0);
  const waits: number[] = [];
  const stale: number[] = [];
  let served = false;
  while (clock.now() - start < opts.seconds * 1000) {
    await sync();
    clock.advance(stepMs);
    await sync();
    const token = m.tokenIfReady();
    await sync();
    if (token) {
      served = true;
      if (clock.now() >= handOutDeadline(token)) stale.push(clock.now() - start);
    } else if (served) {
      waits.push(clock.now() - start);
    }
  }
  await first;
  // a fetch still held when the run ends is abandoned, so that close() need not wait for it
  for (const request of endpoint.held.splice(0)) request.res.destroy();
  await until('the abandoned fetch is over', () => m.status().state !== 'refreshing');
  return { requestsAt: endpoint.received.map((at) => at - start), waits, stale };
}

t.test('2 s tokens from an endpoint answering after 30 ms, for 20 s', async (t) => {
  const run = await rollover(t, { lifetimeSeconds: 2, seconds: 20, latencyMs: () => 30 });
  t.same(run.waits, [], 'the fast path had a token at every probe: no caller waited');
  t.same(run.stale, [], 'and never one past its last usable moment');
  // whole-second exp makes ~one request per second the floor (20 in 20 s); the lead costs a
  // little on top of it, never a request per half-lifetime
  t.ok(
    run.requestsAt.length <= 22,
    `${run.requestsAt.length} token requests in 20 s: ${run.requestsAt.join(', ')}`,
  );
  t.ok(run.requestsAt.length >= 20, 'one token per usable second');
});

t.test('hour-long tokens, RefreshMargin=300: one refresh per lifetime, 300 s ahead', async (t) => {
  const run = await rollover(t, {
    lifetimeSeconds: 3600,
    seconds: 3 * 3600,
    latencyMs: () => 30,
    stepMs: 1_000,
  });
  t.same(run.waits, []);
  // each refresh starts when its token has 300 s left: every 3300 s
  t.same(
    run.requestsAt,
    [0, 3300_000, 6600_000, 9900_000],
    'the first token, then one refresh per lifetime at exp - 300 s',
  );
});

t.test('5-minute tokens are refreshed late in life, not at half-life', async (t) => {
  const run = await rollover(t, {
    lifetimeSeconds: 300,
    seconds: 1800,
    latencyMs: () => 30,
    stepMs: 1_000,
  });
  t.same(run.waits, []);
  // RefreshMargin 300 s is capped at a tenth of the 300 s lifetime: 30 s before exp
  t.same(run.requestsAt.slice(0, 3), [0, 270_000, 540_000]);
  t.equal(run.requestsAt.length, 7, 'seven tokens cover 30 minutes (one per 270 s)');
});

t.test('the lead adapts: a slow endpoint makes the refresh start earlier', async (t) => {
  const fast = await rollover(t, { lifetimeSeconds: 10, seconds: 10, latencyMs: () => 10 });
  const slow = await rollover(t, { lifetimeSeconds: 10, seconds: 10, latencyMs: () => 200 });
  t.same(fast.waits, [], 'fast endpoint: nobody waited');
  t.same(slow.waits, [], 'slow endpoint: nobody waited');
  const fastRefresh = fast.requestsAt[1];
  const slowRefresh = slow.requestsAt[1];
  t.ok(
    fastRefresh !== undefined && slowRefresh !== undefined && slowRefresh < fastRefresh,
    `refresh at ${slowRefresh} ms with a 200 ms endpoint, ${fastRefresh} ms with a 10 ms one`,
  );
  // 10 s tokens stop being handed out 1 s before exp: the refresh must be back by 9000 ms
  t.ok(
    slowRefresh !== undefined && slowRefresh + 200 <= 9_000,
    'the slow refresh is back before the token stops being handed out',
  );
  t.ok(fastRefresh !== undefined && fastRefresh >= 8_900, 'the fast one starts late in life');
});

t.test(
  'one slow fetch is remembered: the next fast one does not shrink the lead at once',
  async (t) => {
    // the first token takes 200 ms, then the endpoint answers in 10 ms
    const run = await rollover(t, {
      lifetimeSeconds: 10,
      seconds: 40,
      latencyMs: (n) => (n === 0 ? 200 : 10),
    });
    t.same(run.waits, []);
    const leads = run.requestsAt.slice(1).map((at, i) => {
      const previous = run.requestsAt[i]!;
      return previous + 9_000 - at; // how long before the previous token's last usable moment
    });
    t.ok(leads.length >= 4, `${leads.length} refreshes`);
    t.ok(
      leads.every((lead, i) => i === 0 || lead <= leads[i - 1]!),
      `the lead shrinks step by step as the endpoint stays fast: ${leads.join(', ')} ms`,
    );
    t.ok(leads[1]! > 30, 'one fast fetch after a slow one still keeps a longer lead');
    t.ok(leads.at(-1)! < leads[0]!, 'and it does shrink');
  },
);

t.test('refreshAt: RefreshMargin=0 means on demand only', async (t) => {
  const token = { accessToken: 'x', tokenType: 'Bearer', obtainedAt: 0, expiresAt: 3600_000 };
  t.equal(refreshAt(token, 0, 20), token.expiresAt, 'never before the token is unusable');
  t.ok(refreshAt(token, 0, 20) >= handOutDeadline(token));
});
