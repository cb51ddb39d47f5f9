import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import {
  UNREAD_BODY_LIMITS,
  endAfterRequestBody,
  hasUnreadBody,
  type UnreadBodyLimits,
} from '../../lib/http/unread-body.js';
import { headerOf, openRaw, statusOf, within } from '../fixtures/raw-client.js';

/** only a broken build waits this long */
const BOUND_MS = 10_000;

/** A server that answers every request at once with `endAfterRequestBody`, counting body bytes read. */
async function answeringServer(
  t: Test,
  limits: UnreadBodyLimits,
): Promise<{ port: number; seen: { unread: boolean[]; bytes: number } }> {
  const seen = { unread: [] as boolean[], bytes: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const unread = hasUnreadBody(req);
    seen.unread.push(unread);
    req.on('data', (c: Buffer) => (seen.bytes += c.length));
    res.shouldKeepAlive = !unread;
    res.writeHead(502, { 'content-type': 'text/plain', 'content-length': 7 });
    if (unread) endAfterRequestBody(req, res, 'refused', limits);
    else res.end('refused');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, seen };
}

const SHORT: UnreadBodyLimits = { maxBytes: 64 * 1024, quietMs: 100, maxMs: 1_000 };

t.test('the defaults: 64 MiB, 2 s without a byte, 30 s in all', async (t) => {
  t.same(UNREAD_BODY_LIMITS, { maxBytes: 64 * 1024 * 1024, quietMs: 2_000, maxMs: 30_000 });
});

t.test('a body that stops arriving: the connection closes once the client is quiet', async (t) => {
  const { port, seen } = await answeringServer(t, SHORT);
  const c = await openRaw(port);
  t.teardown(() => c.socket.destroy());
  await c.write('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n0123456789');
  const closed = await within(c.closed, BOUND_MS, undefined);
  t.same(closed, { reset: false }, 'closed after the answer, not reset');
  t.equal(statusOf(c.received()), 502);
  t.match(c.received(), /\r\n\r\nrefused$/);
  t.equal(headerOf(c.received(), 'connection'), 'close');
  t.same(seen.unread, [true]);
});

t.test('a body larger than maxBytes: reading stops there and the connection closes', async (t) => {
  const { port, seen } = await answeringServer(t, SHORT);
  const c = await openRaw(port);
  t.teardown(() => c.socket.destroy());
  await c.write(`PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: ${16 * 1024 * 1024}\r\n\r\n`);
  let writing = true;
  void c.closed.then(() => (writing = false));
  const chunk = Buffer.alloc(16 * 1024, 'z');
  for (let i = 0; i < 1024 && writing; i++) {
    if (!(await within(c.write(chunk), 1_000, false))) break;
  }
  await within(c.closed, BOUND_MS, undefined);
  t.equal(statusOf(c.received()), 502, 'the answer arrived while the client was still sending');
  t.ok(seen.bytes < 16 * 1024 * 1024, `stopped reading after ${seen.bytes} bytes`);
  t.ok(seen.bytes > SHORT.maxBytes, 'read up to the limit');
});

t.test('a client trickling its body: the connection closes after maxMs', async (t) => {
  const { port } = await answeringServer(t, SHORT);
  const c = await openRaw(port);
  t.teardown(() => c.socket.destroy());
  await c.write('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n');
  const trickle = setInterval(() => void c.write('a'), 20);
  t.teardown(() => clearInterval(trickle));
  const closed = await within(c.closed, BOUND_MS, undefined);
  clearInterval(trickle);
  t.ok(closed, 'closed although the client never stopped sending');
  t.equal(statusOf(c.received()), 502);
});

t.test('a body that arrives whole: the answer ends when it has', async (t) => {
  const { port, seen } = await answeringServer(t, SHORT);
  const c = await openRaw(port);
  t.teardown(() => c.socket.destroy());
  await c.write('POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n');
  await c.write('5\r\nhello\r\n');
  await c.write('0\r\n\r\n');
  const closed = await within(c.closed, BOUND_MS, undefined);
  t.same(closed, { reset: false });
  t.equal(seen.bytes, 5);
});

t.test('what counts as an unread body', async (t) => {
  const req = (headers: Record<string, string>, complete = false) =>
    ({ headers, complete }) as unknown as IncomingMessage;
  t.notOk(hasUnreadBody(req({})), 'no body announced');
  t.notOk(hasUnreadBody(req({ 'content-length': '0' })), 'an empty body');
  t.ok(hasUnreadBody(req({ 'content-length': '10' })));
  t.ok(hasUnreadBody(req({ 'transfer-encoding': 'chunked' })));
  t.notOk(hasUnreadBody(req({ 'content-length': '10' }, true)), 'all of it arrived already');
});
