import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startUpstream, type Upstream } from '../fixtures/upstream.js';
import { startProxy, type ProxyUnderTest } from './proxy-harness.js';

/** An upstream that accepts only the provider's current token: 401 for any other. */
async function strictUpstream(
  t: Parameters<typeof startUpstream>[0],
  current: () => string,
): Promise<Upstream> {
  return startUpstream(t, {
    handler: (req, res, recorded) => {
      if (req.headers.authorization !== `Bearer ${current()}`) {
        res.writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': 'Bearer error="invalid_token"',
        });
        res.end('{"error":"invalid_token"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ bodyBytes: recorded.bodyBytes, body: recorded.body.toString() }));
    },
  });
}

async function setUp(
  t: Test,
  dsnExtra: Parameters<typeof makeDsn>[0] = {},
): Promise<{ up: Upstream; proxy: ProxyUnderTest; url: string }> {
  let accepted = '';
  const up = await strictUpstream(t, () => accepted);
  const proxy = await startProxy(t, [
    makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin), ...dsnExtra }),
  ]);
  const stub = proxy.stub('api');
  // the upstream already revoked the token the provider holds: it only takes the next one
  const first = stub.currentToken;
  accepted = `${stub.tokenPrefix}-2`;
  t.ok(first.endsWith('-1'));
  return { up, proxy, url: `${proxy.server.url}/api` };
}

t.test(
  '401 for the current token: invalidate, fetch a new one, replay the buffered request once',
  async (t) => {
    const { up, proxy, url } = await setUp(t);
    const res = await request(`${url}/items`, {
      method: 'POST',
      body: 'payload-123',
      headers: { 'content-type': 'text/plain' },
    });
    t.equal(res.statusCode, 200);
    t.same(
      await res.body.json(),
      { bodyBytes: 11, body: 'payload-123' },
      'the replay carried the same body',
    );
    const stub = proxy.stub('api');
    t.equal(stub.tokensIssued, 2);
    t.equal(stub.rejections, 1);
    t.same(
      up.requests.map((r) => [r.method, r.url, r.headers.authorization]),
      [
        ['POST', '/items', `Bearer ${stub.tokenPrefix}-1`],
        ['POST', '/items', `Bearer ${stub.tokenPrefix}-2`],
      ],
    );
  },
);

t.test('100 parallel 401s cause one refresh, and every request succeeds on replay', async (t) => {
  const { up, proxy, url } = await setUp(t);
  const stub = proxy.stub('api');
  // every request takes token 1 before any 401 comes back
  const release = stub.hold();
  const all = Promise.all(
    Array.from({ length: 100 }, async (_v, i) => {
      const res = await request(`${url}/r/${i}`);
      await res.body.dump();
      return res.statusCode;
    }),
  );
  await stub.callsReached(100);
  release();
  const statuses = await all;
  t.same(new Set(statuses), new Set([200]));
  t.equal(stub.tokensIssued, 2, 'one new token for 100 rejections');
  t.equal(stub.rejections, 100);
  t.equal(up.requests.length, 200);
});

t.test(
  'a body over ReplayBodyLimit streams and is not replayed: the 401 passes through',
  async (t) => {
    const { up, proxy, url } = await setUp(t, { replayBodyLimitBytes: 1024 });
    const big = Buffer.alloc(4096, 'b');
    const res = await request(`${url}/upload`, { method: 'PUT', body: big });
    t.equal(res.statusCode, 401);
    t.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"');
    t.same(await res.body.json(), { error: 'invalid_token' });
    t.equal(up.requests.length, 1);
    t.equal(up.requests[0]!.bodyBytes, 4096);
    const stub = proxy.stub('api');
    t.equal(
      stub.rejections,
      1,
      'the token is still reported, so the next request gets a fresh one',
    );
    const next = await request(`${url}/after`);
    await next.body.dump();
    t.equal(next.statusCode, 200);
  },
);

t.test(
  'a chunked body that outgrows the limit streams whole (first chunks included), without replay',
  async (t) => {
    const { up, url } = await setUp(t, { replayBodyLimitBytes: 1000 });
    const chunks = Array.from({ length: 10 }, (_v, i) => Buffer.alloc(300, 48 + i));
    const res = await request(`${url}/chunked`, { method: 'POST', body: Readable.from(chunks) });
    await res.body.dump();
    t.equal(res.statusCode, 401);
    t.equal(up.requests.length, 1);
    t.equal(up.requests[0]!.headers['transfer-encoding'], 'chunked');
    t.same(up.requests[0]!.body, Buffer.concat(chunks), 'every byte, in order');
  },
);

t.test('a chunked body within the limit is buffered and replayed', async (t) => {
  const { up, url } = await setUp(t, { replayBodyLimitBytes: 10_000 });
  const chunks = [Buffer.from('part1-'), Buffer.from('part2')];
  const res = await request(`${url}/small`, { method: 'POST', body: Readable.from(chunks) });
  t.equal(res.statusCode, 200);
  t.same(await res.body.json(), { bodyBytes: 11, body: 'part1-part2' });
  t.equal(up.requests.length, 2);
});

t.test(
  'a second rejection is passed through (replay once), and statuses outside RefreshOnStatus are left alone',
  async (t) => {
    const up = await startUpstream(t, {
      handler: (req, res) => {
        res.writeHead(req.url === '/forbidden' ? 403 : 401);
        res.end();
      },
    });
    const { server, stub } = await startProxy(t, [
      makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin) }),
    ]);
    const res = await request(`${server.url}/api/x`);
    await res.body.dump();
    t.equal(res.statusCode, 401);
    t.equal(up.requests.length, 2, 'one replay');
    t.equal(
      stub('api').rejections,
      1,
      'the replay’s rejection is not reported: it would drop the token just fetched for it',
    );
    const forbidden = await request(`${server.url}/api/forbidden`);
    await forbidden.body.dump();
    t.equal(forbidden.statusCode, 403);
    t.equal(up.requests.length, 3, 'no replay for 403 unless RefreshOnStatus lists it');
  },
);

t.test('RefreshOnStatus=401,403 replays a 403 too', async (t) => {
  let accepted = '';
  const up = await startUpstream(t, {
    handler: (req, res) => {
      res.writeHead(req.headers.authorization === `Bearer ${accepted}` ? 200 : 403);
      res.end();
    },
  });
  const { server, stub } = await startProxy(t, [
    makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin), refreshOnStatus: [401, 403] }),
  ]);
  // the provider holds token 1; the upstream takes only token 2
  t.match(stub('api').currentToken, /-1$/);
  accepted = `${stub('api').tokenPrefix}-2`;
  const res = await request(`${server.url}/api/x`);
  await res.body.dump();
  t.equal(res.statusCode, 200);
});

t.test('static credentials (no token) are never replayed', async (t) => {
  const up = await startUpstream(t, {
    handler: (_req, res) => {
      res.writeHead(401);
      res.end();
    },
  });
  const { server, stub } = await startProxy(
    t,
    [makeDsn({ name: 'k', method: 34, upstream: new URL(up.origin) })],
    {
      stubOptions: { k: { staticHeader: ['Authorization', 'Bearer static'] } },
    },
  );
  const res = await request(`${server.url}/k/x`, { method: 'POST', body: 'x' });
  await res.body.dump();
  t.equal(res.statusCode, 401);
  t.equal(up.requests.length, 1);
  t.equal(stub('k').rejections, 0);
});
