import t from 'tap';
import { request } from 'undici';
import { startCorporateProxy } from '../fixtures/corporate-proxy.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { TEST_CA_FILE, startUpstream } from '../fixtures/upstream.js';
import { startProxy } from './proxy-harness.js';

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
