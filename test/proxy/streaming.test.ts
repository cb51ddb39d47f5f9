import { once } from 'node:events';
import { Readable } from 'node:stream';
import t from 'tap';
import { request } from 'undici';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startUpstream } from '../fixtures/upstream.js';
import { startProxy } from './proxy-harness.js';

// 2 GiB and more cross loopback here; a busy machine needs longer than tap's 60 s default
t.setTimeout(240_000);

const GiB = 1024 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024, 0x61);
/** a buffered copy of 1 GiB anywhere (proxy, client or upstream: all in this process) blows this */
const RSS_GROWTH_LIMIT = 256 * 1024 * 1024;

/** The peak RSS growth while `work` runs, sampled as it goes. */
async function peakRssGrowth(work: () => Promise<void>): Promise<number> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, process.memoryUsage().rss) - base;
}

async function* generated(total: number): AsyncGenerator<Buffer> {
  for (let sent = 0; sent < total; sent += CHUNK.length)
    yield CHUNK.subarray(0, Math.min(CHUNK.length, total - sent));
}

t.test('a 1 GiB download streams through with flat memory', async (t) => {
  const up = await startUpstream(t, {
    handler: async (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(GiB),
      });
      for await (const chunk of generated(GiB)) {
        if (!res.write(chunk)) await once(res, 'drain');
      }
      res.end();
    },
  });
  const { server } = await startProxy(t, [
    makeDsn({ name: 'big', method: 54, upstream: new URL(up.origin) }),
  ]);
  let received = 0;
  const growth = await peakRssGrowth(async () => {
    const res = await request(`${server.url}/big/file`);
    t.equal(res.statusCode, 200);
    for await (const chunk of res.body) received += (chunk as Buffer).length;
  });
  t.equal(received, GiB);
  t.ok(growth < RSS_GROWTH_LIMIT, `RSS grew ${Math.round(growth / 1048576)} MiB`);
});

t.test('a 1 GiB upload with Content-Length streams through with flat memory', async (t) => {
  const up = await startUpstream(t, { keepBody: false });
  const { server, stub } = await startProxy(t, [
    makeDsn({ name: 'big', method: 54, upstream: new URL(up.origin) }),
  ]);
  const growth = await peakRssGrowth(async () => {
    const res = await request(`${server.url}/big/upload`, {
      method: 'PUT',
      headers: { 'content-length': String(GiB) },
      body: Readable.from(generated(GiB)),
    });
    t.equal(res.statusCode, 200);
    await res.body.dump();
  });
  t.equal(up.requests[0]!.bodyBytes, GiB);
  t.equal(up.requests[0]!.headers.authorization, `Bearer ${stub('big').currentToken}`);
  t.ok(growth < RSS_GROWTH_LIMIT, `RSS grew ${Math.round(growth / 1048576)} MiB`);
});

t.test('a chunked upload past the replay limit streams on with flat memory', async (t) => {
  const size = GiB / 4;
  const up = await startUpstream(t, { keepBody: false });
  const { server } = await startProxy(t, [
    makeDsn({ name: 'big', method: 54, upstream: new URL(up.origin) }),
  ]);
  const growth = await peakRssGrowth(async () => {
    const res = await request(`${server.url}/big/upload`, {
      method: 'POST',
      body: Readable.from(generated(size)),
    });
    t.equal(res.statusCode, 200);
    await res.body.dump();
  });
  t.equal(up.requests[0]!.bodyBytes, size);
  t.equal(up.requests[0]!.headers['transfer-encoding'], 'chunked');
  t.ok(growth < RSS_GROWTH_LIMIT, `RSS grew ${Math.round(growth / 1048576)} MiB`);
});
