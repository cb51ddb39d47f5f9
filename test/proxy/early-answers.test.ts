import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { Pool } from 'undici';
import { TokenUnavailableError } from '../../lib/errors.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { headerOf, openRaw, statusOf, within } from '../fixtures/raw-client.js';
import { startUpstream } from '../fixtures/upstream.js';
import { startProxy, type ProxyUnderTest } from './proxy-harness.js';

// tokenshim answering before it has read a request's body (no token yet, an unknown DSN, an
// upstream it cannot reach): Mono's HttpWebRequest (the nearest thing to Qlik's .NET connector)
// writes its whole body before it reads, so a connection closed while the body still arrives is
// reset and the answer already sent is lost ("the socket has been shut down"); and aiohttp reuses
// a connection that answered early, whose unread body then swallows its next request.

const BODY_BYTES = 2 * 1024 * 1024;
/** only a broken build waits this long */
const BOUND_MS = 15_000;

async function proxyWithoutToken(t: Test): Promise<ProxyUnderTest> {
  const up = await startUpstream(t);
  const proxy = await startProxy(t, [
    makeDsn({ name: 'crm', method: 54, upstream: new URL(up.origin) }),
  ]);
  proxy
    .stub('crm')
    .failWith(new TokenUnavailableError('crm', 'the token endpoint is unreachable (ECONNREFUSED)'));
  return proxy;
}

/**
 * A client that writes head and body in full, then reads (as HttpWebRequest does), optionally
 * waiting `expectWaitMs` for a 100 Continue it does not look for (.NET waits 350 ms).
 */
async function postLikeHttpWebRequest(
  port: number,
  path: string,
  opts: { expect?: boolean; expectWaitMs?: number; until?: string } = {},
): Promise<{ text: string; wroteAll: boolean; reset: boolean }> {
  const c = await openRaw(port, { readLater: true });
  const head =
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${BODY_BYTES}\r\n${opts.expect ? 'Expect: 100-continue\r\n' : ''}\r\n`;
  let wroteAll = await c.write(head);
  if (opts.expect) await new Promise((r) => setTimeout(r, opts.expectWaitMs ?? 350));
  const chunk = Buffer.alloc(64 * 1024, 'x');
  for (let sent = 0; sent < BODY_BYTES && wroteAll; sent += chunk.length) {
    wroteAll = await within(c.write(chunk), BOUND_MS, false);
  }
  c.startReading();
  const { reset } = await within(
    opts.until === undefined
      ? c.closed
      : c.waitFor(opts.until).then(
          () => ({ reset: false }),
          () => ({ reset: true }),
        ),
    BOUND_MS,
    { reset: true },
  );
  c.socket.destroy();
  return { text: c.received(), wroteAll, reset };
}

function problemIn(text: string): { code?: string; dsn?: string } {
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  try {
    return JSON.parse(body) as { code?: string };
  } catch {
    return {};
  }
}

for (const expect of [false, true]) {
  t.test(
    `a 2 MiB POST to a DSN with no token yet${expect ? ' (Expect: 100-continue)' : ''}: the client writes it all, then reads the 502`,
    async (t) => {
      const proxy = await proxyWithoutToken(t);
      const got = await postLikeHttpWebRequest(proxy.server.port, '/crm/leads', { expect });
      t.ok(got.wroteAll, 'every byte of the body was accepted');
      t.notOk(got.reset, 'the connection was closed, not reset');
      t.equal(statusOf(got.text), 502, got.text.slice(0, 200));
      t.match(got.text, /\r\nContent-Type: application\/problem\+json\r\n/i);
      t.equal(problemIn(got.text).code, 'TOKENSHIM_TOKEN_UNAVAILABLE');
      t.equal(headerOf(got.text, 'connection'), 'close', 'the connection is not reused');
    },
  );
}

t.test('a 2 MiB POST to an unknown DSN (Expect: 100-continue): the 404 arrives', async (t) => {
  const proxy = await proxyWithoutToken(t);
  const got = await postLikeHttpWebRequest(proxy.server.port, '/nosuchdsn/x', { expect: true });
  t.ok(got.wroteAll);
  t.notOk(got.reset);
  t.equal(statusOf(got.text), 404);
  t.equal(problemIn(got.text).code, 'TOKENSHIM_UNKNOWN_DSN');
});

t.test(
  'an early answer to a body sent halfway says Connection: close, so a pool never reuses it',
  async (t) => {
    const proxy = await proxyWithoutToken(t);
    const c = await openRaw(proxy.server.port);
    t.teardown(() => c.socket.destroy());
    await c.write(
      `POST /crm/leads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`,
    );
    await c.write(Buffer.alloc(1000, 'x'));
    await c.waitFor('TOKENSHIM_TOKEN_UNAVAILABLE');
    t.equal(statusOf(c.received()), 502);
    t.equal(headerOf(c.received(), 'connection'), 'close');
  },
);

t.test(
  'undici pool: after an early 502 to a streamed upload, the next request is answered',
  async (t) => {
    const proxy = await proxyWithoutToken(t);
    const pool = new Pool(proxy.server.url, { connections: 1 });
    t.teardown(() => pool.close());
    const first = await pool.request({
      path: '/crm/upload',
      method: 'PUT',
      body: Readable.from(
        (function* () {
          for (let i = 0; i < 32; i++) yield Buffer.alloc(64 * 1024, 'y');
        })(),
      ),
    });
    t.equal(first.statusCode, 502);
    await first.body.dump();
    proxy.stub('crm').failWith(undefined);
    const next = await within(
      pool.request({ path: '/crm/next', method: 'GET' }).then(async (r) => {
        await r.body.dump();
        return r.statusCode;
      }),
      BOUND_MS,
      0,
    );
    t.equal(next, 200, 'the pooled client was not left hanging');
  },
);

t.test('a refused request without a body keeps its connection', async (t) => {
  const proxy = await proxyWithoutToken(t);
  const c = await openRaw(proxy.server.port);
  t.teardown(() => c.socket.destroy());
  await c.write('GET /nosuchdsn/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await c.waitFor('TOKENSHIM_UNKNOWN_DSN');
  t.equal(headerOf(c.received(), 'connection'), 'keep-alive');
});

t.test(
  'an upstream that cannot be reached, for a streamed 2 MiB body: the client still reads the 502',
  async (t) => {
    const proxy = await startProxy(t, [
      makeDsn({
        name: 'down',
        method: 54,
        upstream: new URL('http://127.0.0.1:9'),
        replayBodyLimitBytes: 1024,
      }),
    ]);
    const got = await postLikeHttpWebRequest(proxy.server.port, '/down/leads');
    t.ok(got.wroteAll, 'every byte of the body was accepted');
    t.notOk(got.reset, 'the connection was closed, not reset');
    t.equal(statusOf(got.text), 502, got.text.slice(0, 200));
    t.equal(problemIn(got.text).code, 'TOKENSHIM_UPSTREAM_UNREACHABLE');
  },
);

t.test(
  'an upstream that answers before reading a streamed 2 MiB body: the client reads its answer',
  async (t) => {
    const up = await startUpstream(t, {
      readBody: false,
      handler: (_req, res) => {
        // keep-alive: node reads and drops the rest of the body, as a server should
        res.writeHead(413, { 'content-type': 'application/json' });
        res.end('{"error":"too large"}');
      },
    });
    const proxy = await startProxy(t, [
      makeDsn({ name: 'api', upstream: new URL(up.origin), replayBodyLimitBytes: 1024 }),
    ]);
    const got = await postLikeHttpWebRequest(proxy.server.port, '/api/leads', {
      until: '\r\n0\r\n\r\n',
    });
    t.ok(got.wroteAll, 'every byte of the body was accepted');
    t.notOk(got.reset, 'the whole answer arrived');
    t.equal(statusOf(got.text), 413, got.text.slice(0, 200));
    t.match(got.text, /\{"error":"too large"\}\r\n0\r\n\r\n$/);
  },
);
