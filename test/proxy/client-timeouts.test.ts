import t from 'tap';
import { request } from 'undici';
import { makeDsn } from '../fixtures/make-dsn.js';
import { headerOf, openRaw, statusOf, within, type RawClient } from '../fixtures/raw-client.js';
import { startUpstream } from '../fixtures/upstream.js';
import { startProxy } from './proxy-harness.js';

// Client connections that never finish a request must not be held forever: node's headers timeout
// is 0 when requestTimeout is 0 (which long uploads need), so silent and slowloris connections
// stayed open and took file descriptors the token store then lacked. The timeouts here are short
// so the test runs in a second; `within` only bounds how long a broken build makes the test wait.
const SHORT = { headersMs: 300, idleMs: 400 };
/** far more than the timeouts above plus node's check interval: only a broken build waits this long */
const BOUND_MS = 15_000;

async function proxyWithShortTimeouts(t: Parameters<typeof startProxy>[0]) {
  const up = await startUpstream(t);
  const proxy = await startProxy(t, [makeDsn({ name: 'api', upstream: new URL(up.origin) })], {
    clientTimeouts: SHORT,
  });
  return { up, proxy, port: proxy.server.port };
}

t.test('1,000 connections that never send a byte are closed with 408', async (t) => {
  const { port, proxy } = await proxyWithShortTimeouts(t);
  const clients: RawClient[] = [];
  t.teardown(() => clients.forEach((c) => c.socket.destroy()));
  for (let i = 0; i < 1000; i++) clients.push(await openRaw(port));
  const closed = await within(
    Promise.all(clients.map((c) => c.closed)).then(() => true),
    BOUND_MS,
    false,
  );
  t.ok(closed, 'every silent connection was closed by tokenshim');
  const statuses = new Set(clients.map((c) => statusOf(c.received())));
  t.same([...statuses], [408], 'each was told why: 408 Request Timeout');
  const res = await request(`${proxy.server.url}/api/after`);
  await res.body.dump();
  t.equal(res.statusCode, 200, 'the proxy still serves');
});

t.test('slowloris: headers sent a byte at a time are cut at the headers timeout', async (t) => {
  const { port } = await proxyWithShortTimeouts(t);
  const clients = await Promise.all(Array.from({ length: 20 }, () => openRaw(port)));
  t.teardown(() => clients.forEach((c) => c.socket.destroy()));
  const trickle = setInterval(() => {
    for (const c of clients) void c.write('a');
  }, 50);
  t.teardown(() => clearInterval(trickle));
  for (const c of clients) await c.write('GET /api/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  const closed = await within(
    Promise.all(clients.map((c) => c.closed)).then(() => true),
    BOUND_MS,
    false,
  );
  clearInterval(trickle);
  t.ok(closed, 'every slowloris connection was closed although it kept sending');
  t.same([...new Set(clients.map((c) => statusOf(c.received())))], [408]);
});

t.test('a request body that stops halfway is cut after the idle timeout', async (t) => {
  const up = await startUpstream(t);
  const { server } = await startProxy(
    t,
    [makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin) })],
    { clientTimeouts: SHORT },
  );
  const c = await openRaw(server.port);
  t.teardown(() => c.socket.destroy());
  await c.write(
    'POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n0123456789',
  );
  const outcome = await within(c.closed, BOUND_MS, undefined);
  t.ok(outcome, 'the stalled upload was closed');
  t.equal(up.requests.length, 0, 'nothing half-received went upstream');
});

t.test('a kept-alive connection idle for longer than the idle timeout is closed', async (t) => {
  const { port } = await proxyWithShortTimeouts(t);
  const c = await openRaw(port);
  t.teardown(() => c.socket.destroy());
  await c.write('GET /api/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await c.waitFor('"method"');
  t.equal(statusOf(c.received()), 200);
  t.equal(
    headerOf(c.received(), 'keep-alive'),
    `timeout=${Math.floor(SHORT.idleMs / 1000)}`,
    'Keep-Alive names the idle timeout',
  );
  const outcome = await within(c.closed, BOUND_MS, undefined);
  t.same(outcome, { reset: false }, 'closed quietly once idle');
});

t.test('waiting for a slow upstream is not the client being idle', async (t) => {
  const up = await startUpstream(t, {
    handler: (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('late but fine');
      }, SHORT.idleMs * 3);
    },
  });
  const { server } = await startProxy(
    t,
    [makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin) })],
    { clientTimeouts: SHORT },
  );
  const get = await request(`${server.url}/api/slow`);
  t.equal(get.statusCode, 200);
  t.equal(await get.body.text(), 'late but fine');
  const post = await request(`${server.url}/api/slow`, { method: 'POST', body: 'small body' });
  t.equal(post.statusCode, 200, 'a buffered body, complete, then a slow answer');
  t.equal(await post.body.text(), 'late but fine');
});

t.test(
  'a streamed upload paused because the upstream reads slowly is not cut as idle',
  async (t) => {
    const size = 16 * 1024 * 1024;
    const up = await startUpstream(t, {
      readBody: false,
      handler: (req, res) => {
        // the upstream takes nothing for a while: tokenshim stops reading from the client
        setTimeout(() => {
          let bytes = 0;
          req.on('data', (c: Buffer) => (bytes += c.length));
          req.on('end', () => {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end(String(bytes));
          });
        }, SHORT.idleMs * 3);
      },
    });
    const { server } = await startProxy(
      t,
      [makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin) })],
      { clientTimeouts: SHORT },
    );
    const res = await request(`${server.url}/api/upload`, {
      method: 'PUT',
      body: Buffer.alloc(size, 'x'),
    });
    t.equal(res.statusCode, 200);
    t.equal(await res.body.text(), String(size), 'every byte arrived');
  },
);
