import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { FakeClock } from '../../lib/clock.js';
import type { ExchangeEvent } from '../../lib/proxy/forward/exchange.js';
import { ProxyMetrics } from '../../lib/metrics/proxy-metrics.js';
import { makeDsn, type DsnOverrides } from '../fixtures/make-dsn.js';
import { startUpstream, type Upstream } from '../fixtures/upstream.js';
import { startProxy, type ProxyUnderTest } from './proxy-harness.js';

// RetryOnStatus (429,503 by default): an upstream that says "later" is asked again after the wait
// its Retry-After names, within MaxRetryWait, a few times; then the client gets the last answer.
// Time is a FakeClock: the waits are asserted exactly and take no time.

/** The upstream answers each request with the next of `answers` (the last one repeats). */
type Answer = readonly [status: number, headers?: Record<string, string>];

async function rig(
  t: Test,
  answers: readonly Answer[],
  dsn: DsnOverrides = {},
  opts: { observer?: ProxyMetrics | { exchangeEnded(e: ExchangeEvent): void } } = {},
): Promise<{ up: Upstream; proxy: ProxyUnderTest; clock: FakeClock; url: string }> {
  let n = 0;
  const up = await startUpstream(t, {
    handler: (_req, res: ServerResponse, recorded) => {
      const [status, headers = {}] = answers[Math.min(n++, answers.length - 1)]!;
      const body = JSON.stringify({ answer: n, status, bodyBytes: recorded.bodyBytes });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    },
  });
  const clock = new FakeClock();
  const proxy = await startProxy(
    t,
    [makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin), ...dsn })],
    { clock, ...(opts.observer ? { observer: opts.observer } : {}) },
  );
  return { up, proxy, clock, url: `${proxy.server.url}/api` };
}

/** Waits (real time, for I/O) until the exchange has set its retry timer on the fake clock. */
async function retryScheduled(clock: FakeClock): Promise<void> {
  for (let i = 0; i < 1000 && clock.pending === 0; i++) await new Promise((r) => setTimeout(r, 5));
  if (clock.pending === 0) throw new Error('no retry was scheduled');
}

/** Lets the request run, answering each scheduled wait by moving the clock `waits` (ms) on. */
async function runWith(
  clock: FakeClock,
  pending: Promise<{ status: number; body: string; retryAfter?: string | string[] }>,
  waits: readonly number[],
  up: Upstream,
  t: Test,
): Promise<{ status: number; body: string; retryAfter?: string | string[] }> {
  for (const [i, wait] of waits.entries()) {
    await retryScheduled(clock);
    t.equal(up.requests.length, i + 1, `retry ${i + 1} waits: nothing sent before ${wait} ms`);
    clock.advance(wait - 1);
    t.equal(up.requests.length, i + 1, `still nothing after ${wait - 1} ms`);
    clock.advance(1);
  }
  return pending;
}

function call(
  url: string,
  init: Parameters<typeof request>[1] = {},
): Promise<{ status: number; body: string; retryAfter?: string | string[] }> {
  return request(url, init).then(async (res) => ({
    status: res.statusCode,
    body: await res.body.text(),
    ...(res.headers['retry-after'] === undefined ? {} : { retryAfter: res.headers['retry-after'] }),
  }));
}

t.test(
  '429 with Retry-After in seconds: waits that long, then the answer that follows',
  async (t) => {
    const { up, clock, url } = await rig(t, [[429, { 'retry-after': '2' }], [200]]);
    const got = await runWith(clock, call(`${url}/leads`), [2000], up, t);
    t.equal(got.status, 200);
    t.equal(JSON.parse(got.body).answer, 2);
    t.equal(up.requests.length, 2);
  },
);

t.test('503 with Retry-After as an HTTP date', async (t) => {
  const clock0 = new FakeClock();
  const inFive = new Date(clock0.now() + 5000).toUTCString();
  const { up, clock, url } = await rig(t, [[503, { 'retry-after': inFive }], [200]]);
  t.equal(clock.now(), clock0.now(), 'both clocks start at the same instant');
  const got = await runWith(clock, call(`${url}/x`), [5000], up, t);
  t.equal(got.status, 200);
});

t.test('no Retry-After: 1 s, 2 s, 4 s, then the client gets the fourth answer', async (t) => {
  const { up, clock, url } = await rig(t, [[503]]);
  const got = await runWith(clock, call(`${url}/x`), [1000, 2000, 4000], up, t);
  t.equal(got.status, 503);
  t.equal(JSON.parse(got.body).answer, 4, 'the last answer, body and all');
  t.equal(up.requests.length, 4);
  t.equal(clock.pending, 0);
});

t.test('a Retry-After longer than MaxRetryWait is not waited for', async (t) => {
  const { up, url } = await rig(t, [[429, { 'retry-after': '60' }], [200]]);
  const got = await call(`${url}/x`);
  t.equal(got.status, 429);
  t.equal(got.retryAfter, '60', 'the client sees when to come back');
  t.equal(up.requests.length, 1);
});

t.test('the waits of one request add up to MaxRetryWait at most', async (t) => {
  const { up, clock, url } = await rig(t, [[429, { 'retry-after': '12' }]], {
    maxRetryWaitSeconds: 30,
  });
  const got = await runWith(clock, call(`${url}/x`), [12_000, 12_000], up, t);
  t.equal(got.status, 429, 'a third wait of 12 s would pass 30 s: the third answer goes back');
  t.equal(up.requests.length, 3);
});

t.test('MaxRetryWait=0 turns retries off', async (t) => {
  const { up, url } = await rig(t, [[503, { 'retry-after': '0' }], [200]], {
    maxRetryWaitSeconds: 0,
  });
  t.equal((await call(`${url}/x`)).status, 503);
  t.equal(up.requests.length, 1);
});

t.test('statuses outside RetryOnStatus pass through at once', async (t) => {
  const { up, url } = await rig(t, [[503, { 'retry-after': '1' }], [200]], {
    retryOnStatus: [429],
  });
  t.equal((await call(`${url}/x`)).status, 503);
  t.equal(up.requests.length, 1);
});

t.test('a buffered POST is sent again with the same body', async (t) => {
  const { up, clock, url } = await rig(t, [[429, { 'retry-after': '1' }], [201]]);
  const got = await runWith(
    clock,
    call(`${url}/orders`, { method: 'POST', body: '{"qty":3}' }),
    [1000],
    up,
    t,
  );
  t.equal(got.status, 201);
  t.same(
    up.requests.map((r) => r.body.toString()),
    ['{"qty":3}', '{"qty":3}'],
  );
});

t.test('a streamed body (over ReplayBodyLimit) is never retried', async (t) => {
  const { up, url } = await rig(t, [[503, { 'retry-after': '1' }], [200]], {
    replayBodyLimitBytes: 1024,
  });
  const got = await call(`${url}/upload`, {
    method: 'PUT',
    body: Readable.from([Buffer.alloc(4096, 'u')]),
  });
  t.equal(got.status, 503);
  t.equal(up.requests.length, 1);
  t.equal(up.requests[0]!.bodyBytes, 4096);
});

t.test('a 401 after a retry still reports the token: the retry carried no fresh one', async (t) => {
  const { up, proxy, clock, url } = await rig(t, [[503, { 'retry-after': '1' }], [401], [200]]);
  const got = await runWith(clock, call(`${url}/x`), [1000], up, t);
  t.equal(got.status, 200);
  t.equal(proxy.stub('api').rejections, 1);
  t.equal(up.requests.length, 3, 'the first token twice, then the new one');
});

t.test('a static credential is retried too', async (t) => {
  const { up, clock, url } = await rig(t, [[429, { 'retry-after': '1' }], [200]], {
    method: 34,
    securityToken: 'static-token-value',
  });
  const got = await runWith(clock, call(`${url}/x`), [1000], up, t);
  t.equal(got.status, 200);
});

t.test('retries are counted in the metrics and on the access log event', async (t) => {
  const metrics = new ProxyMetrics({ processMetrics: false });
  const events: ExchangeEvent[] = [];
  const observer = {
    exchangeEnded(e: ExchangeEvent): void {
      events.push(e);
      metrics.exchangeEnded(e);
    },
  };
  const { up, clock, url } = await rig(
    t,
    [[503, { 'retry-after': '1' }], [429], [200]],
    {},
    {
      observer,
    },
  );
  const got = await runWith(clock, call(`${url}/x`), [1000, 2000], up, t);
  t.equal(got.status, 200);
  t.equal(events[0]?.retries, 2);
  const { body } = await metrics.render();
  t.match(body, /tokenshim_upstream_retries_total\{dsn="api"\} 2/);
});

t.test('a client that leaves during the wait: nothing more is sent', async (t) => {
  const { up, clock, url } = await rig(t, [[503, { 'retry-after': '5' }], [200]]);
  const controller = new AbortController();
  const pending = call(`${url}/x`, { signal: controller.signal }).catch((e: Error) => e);
  await retryScheduled(clock);
  controller.abort();
  for (let i = 0; i < 200 && clock.pending > 0; i++) await new Promise((r) => setTimeout(r, 5));
  t.equal(clock.pending, 0, 'the wait was cancelled');
  clock.advance(10_000);
  await pending;
  t.equal(up.requests.length, 1);
});
