import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import { EnvHttpProxyAgent, ProxyAgent, request } from 'undici';
import { createLogger } from '../../lib/log/logger.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { openRaw, statusOf, within } from '../fixtures/raw-client.js';
import { startUpstream, type Upstream } from '../fixtures/upstream.js';
import { startProxy, type ProxyUnderTest } from './proxy-harness.js';

// undici's ProxyAgent and EnvHttpProxyAgent (and so Node's fetch with a proxy) tunnel http:// URLs
// through CONNECT as well. A CONNECT to the origin of a DSN whose HostName is http:// carries
// plain HTTP/1.1: tokenshim reads the requests inside the tunnel and forwards them with the DSN's
// credential, as it does for the same URL in absolute form. No CA is involved.

const BOUND_MS = 15_000;

async function rig(
  t: Test,
  opts: Parameters<typeof startProxy>[2] = {},
): Promise<{ up: Upstream; proxy: ProxyUnderTest; logText: () => string }> {
  const up = await startUpstream(t);
  let logText = '';
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _e, cb) {
        logText += chunk.toString('utf8');
        cb();
      },
    }),
  });
  const proxy = await startProxy(
    t,
    [makeDsn({ name: 'crm', method: 54, upstream: new URL(`${up.origin}/rest`) })],
    { logger, ...opts },
  );
  return { up, proxy, logText: () => logText };
}

t.test(
  'EnvHttpProxyAgent: an http:// URL of a DSN goes through CONNECT and gets the credential',
  async (t) => {
    const { up, proxy } = await rig(t);
    const agent = new EnvHttpProxyAgent({
      httpProxy: proxy.server.url,
      httpsProxy: proxy.server.url,
      noProxy: '',
    });
    t.teardown(() => agent.close());
    const res = await request(`${up.origin}/rest/accounts?limit=10`, { dispatcher: agent });
    t.equal(res.statusCode, 200);
    await res.body.dump();
    const token = proxy.stub('crm').currentToken;
    t.equal(up.requests.length, 1);
    t.equal(up.requests[0]!.url, '/rest/accounts?limit=10', 'the path as the client wrote it');
    t.equal(up.requests[0]!.headers.authorization, `Bearer ${token}`);
    t.equal(up.requests[0]!.headers.host, new URL(up.origin).host);
  },
);

t.test(
  'ProxyAgent: keep-alive inside the tunnel, a POST body, and the client’s Authorization replaced',
  async (t) => {
    const { up, proxy } = await rig(t);
    const agent = new ProxyAgent({ uri: proxy.server.url });
    t.teardown(() => agent.close());
    for (const n of [1, 2]) {
      const res = await request(`${up.origin}/rest/orders`, {
        dispatcher: agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Basic c2VsZjpzZWxm' },
        body: JSON.stringify({ n }),
      });
      t.equal(res.statusCode, 200);
      await res.body.dump();
    }
    const token = proxy.stub('crm').currentToken;
    t.same(
      up.requests.map((r) => [r.method, r.body.toString(), r.headers.authorization]),
      [
        ['POST', '{"n":1}', `Bearer ${token}`],
        ['POST', '{"n":2}', `Bearer ${token}`],
      ],
    );
  },
);

t.test('inside the tunnel, a request for another host is refused 421', async (t) => {
  const { up, proxy } = await rig(t);
  const target = new URL(up.origin).host;
  const c = await openRaw(proxy.server.port);
  t.teardown(() => c.socket.destroy());
  await c.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  await c.waitFor('\r\n\r\n');
  t.equal(statusOf(c.received()), 200, 'the tunnel is open');
  await c.write('GET /rest/x HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n');
  await c.waitFor('TOKENSHIM_CONNECT_REFUSED');
  t.match(c.received(), /HTTP\/1\.1 421/);
  t.equal(up.requests.length, 0, 'nothing was forwarded');
});

t.test('a CONNECT to an http:// host no DSN names is still refused', async (t) => {
  const { proxy } = await rig(t);
  const c = await openRaw(proxy.server.port);
  t.teardown(() => c.socket.destroy());
  await c.write('CONNECT other.example:80 HTTP/1.1\r\nHost: other.example:80\r\n\r\n');
  await within(c.closed, BOUND_MS, undefined);
  t.equal(statusOf(c.received()), 501);
});

t.test('the token never reaches the client or the log', async (t) => {
  const { up, proxy, logText } = await rig(t);
  const agent = new ProxyAgent({ uri: proxy.server.url });
  t.teardown(() => agent.close());
  const res = await request(`${up.origin}/rest/x`, { dispatcher: agent });
  const body = await res.body.text();
  const token = proxy.stub('crm').currentToken;
  t.equal(res.statusCode, 200);
  t.notMatch(JSON.stringify(res.headers), token);
  t.notMatch(logText(), token);
  t.match(body, token, 'only the upstream saw it (its echo shows the header it got)');
});

t.test('a silent connection inside the tunnel is closed by the headers timeout', async (t) => {
  const { up, proxy } = await rig(t, { clientTimeouts: { headersMs: 300, idleMs: 400 } });
  const target = new URL(up.origin).host;
  const c = await openRaw(proxy.server.port);
  t.teardown(() => c.socket.destroy());
  await c.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  await c.waitFor('\r\n\r\n');
  const closed = await within(c.closed, BOUND_MS, undefined);
  t.ok(closed, 'closed');
  t.match(c.received(), /HTTP\/1\.1 408/);
});
