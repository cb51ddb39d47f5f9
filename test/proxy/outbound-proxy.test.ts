import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { makeDsn } from '../fixtures/make-dsn.js';
import { TEST_CA_FILE, startUpstream } from '../fixtures/upstream.js';
import { startProxy } from './proxy-harness.js';

interface CorporateProxy {
  readonly port: number;
  /** `CONNECT` targets and the Proxy-Authorization each came with */
  readonly tunnels: { target: string; auth: string | undefined }[];
}

/**
 * A corporate HTTP proxy on loopback: tunnels CONNECT (undici's ProxyAgent tunnels http and
 * https alike), optionally demanding Basic credentials (407 otherwise).
 */
async function startCorporateProxy(t: Test, requireAuth?: string): Promise<CorporateProxy> {
  const tunnels: CorporateProxy['tunnels'] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer();
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('error', () => client.destroy());
    const auth = req.headers['proxy-authorization'];
    tunnels.push({ target: req.url ?? '', auth });
    if (requireAuth !== undefined && auth !== requireAuth) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, tunnels };
}

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

t.test(
  'ProxyHost/ProxyPort/ProxyUser/ProxyPassword: upstream calls tunnel through the corporate proxy',
  async (t) => {
    const corp = await startCorporateProxy(t, basic('proxy-user', 'proxy-pass'));
    const up = await startUpstream(t, { tls: true });
    const { server, stub } = await startProxy(t, [
      makeDsn({
        name: 'api',
        method: 54,
        upstream: new URL(up.origin),
        trustStore: TEST_CA_FILE,
        outboundProxy: {
          host: '127.0.0.1',
          port: corp.port,
          user: 'proxy-user',
          password: 'proxy-pass',
        },
      }),
    ]);
    const res = await request(`${server.url}/api/x`);
    t.equal(res.statusCode, 200);
    await res.body.dump();
    t.same(corp.tunnels, [
      { target: `127.0.0.1:${up.port}`, auth: basic('proxy-user', 'proxy-pass') },
    ]);
    t.equal(
      up.requests[0]!.headers.authorization,
      `Bearer ${stub('api').currentToken}`,
      'TLS to the upstream, end to end',
    );
  },
);

t.test(
  'a proxy refusing our credentials is a 502 naming the Proxy options, without the password',
  async (t) => {
    const corp = await startCorporateProxy(t, basic('proxy-user', 'right'));
    const up = await startUpstream(t);
    const { server } = await startProxy(t, [
      makeDsn({
        name: 'api',
        upstream: new URL(up.origin),
        outboundProxy: {
          host: '127.0.0.1',
          port: corp.port,
          user: 'proxy-user',
          password: 'wrong-password-x',
        },
      }),
    ]);
    const res = await request(`${server.url}/api/x`);
    const text = await res.body.text();
    t.equal(res.statusCode, 502);
    const problem = JSON.parse(text) as { code: string; detail: string };
    t.equal(problem.code, 'TOKENSHIM_UPSTREAM_PROXY');
    t.match(problem.detail, /ProxyHost, ProxyPort, ProxyUser and ProxyPassword/);
    t.notMatch(text, 'wrong-password-x');
    t.equal(up.requests.length, 0);
  },
);

t.test('HTTP_PROXY/HTTPS_PROXY from the environment, and NO_PROXY', async (t) => {
  const corp = await startCorporateProxy(t);
  const up = await startUpstream(t);
  const viaEnv = await startProxy(t, [makeDsn({ name: 'api', upstream: new URL(up.origin) })], {
    env: { HTTP_PROXY: `http://127.0.0.1:${corp.port}` },
  });
  const res = await request(`${viaEnv.server.url}/api/x`);
  await res.body.dump();
  t.equal(res.statusCode, 200);
  t.equal(corp.tunnels.length, 1, 'went through the environment proxy');

  const bypass = await startProxy(t, [makeDsn({ name: 'api', upstream: new URL(up.origin) })], {
    env: { HTTP_PROXY: `http://127.0.0.1:${corp.port}`, NO_PROXY: '127.0.0.1' },
  });
  const direct = await request(`${bypass.server.url}/api/x`);
  await direct.body.dump();
  t.equal(direct.statusCode, 200);
  t.equal(corp.tunnels.length, 1, 'NO_PROXY bypassed it');
});
