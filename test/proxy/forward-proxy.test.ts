import { request as httpRequest } from 'node:http';
import t from 'tap';
import { makeDsn } from '../fixtures/make-dsn.js';
import { TEST_CA_FILE, startUpstream } from '../fixtures/upstream.js';
import { curl, viaProxy } from './client-requests.js';
import { startProxy } from './proxy-harness.js';

t.test(
  'absolute-form request for a DSN origin gets that DSN credentials (node http)',
  async (t) => {
    const up = await startUpstream(t);
    const { server, stub } = await startProxy(t, [
      makeDsn({ name: 'api', method: 54, upstream: new URL(`${up.origin}/v1`) }),
    ]);
    const res = await viaProxy(server.port, `${up.origin}/v1/items?page=2`, {
      headers: { authorization: 'Bearer mine' },
    });
    t.equal(res.status, 200);
    const got = up.requests[0]!;
    t.equal(got.url, '/v1/items?page=2', 'the path is the client’s, not re-based');
    t.equal(got.headers.authorization, `Bearer ${stub('api').currentToken}`);
    t.equal(got.headers.host, `127.0.0.1:${up.port}`);
  },
);

t.test(
  'an https HostName is called over https although the client spoke http to the proxy',
  async (t) => {
    const up = await startUpstream(t, { tls: true });
    const upstream = new URL(up.origin); // https://127.0.0.1:PORT
    const { server, stub } = await startProxy(t, [
      makeDsn({ name: 'secure', method: 54, upstream, trustStore: TEST_CA_FILE }),
    ]);
    const res = await viaProxy(server.port, `http://127.0.0.1:${up.port}/x`);
    t.equal(res.status, 200);
    t.equal(up.requests.length, 1, 'the TLS upstream got the request');
    t.equal(up.requests[0]!.headers.authorization, `Bearer ${stub('secure').currentToken}`);
  },
);

t.test(
  'AllowedHosts origins get the credential too; any other origin is refused with 403',
  async (t) => {
    const up = await startUpstream(t);
    const other = await startUpstream(t);
    const foreign = await startUpstream(t);
    const { server, stub } = await startProxy(t, [
      makeDsn({
        name: 'api',
        method: 54,
        upstream: new URL(up.origin),
        credentialOrigins: [up.origin, other.origin],
      }),
    ]);
    const ok = await viaProxy(server.port, `${other.origin}/files/1`);
    t.equal(ok.status, 200);
    t.equal(other.requests[0]!.headers.authorization, `Bearer ${stub('api').currentToken}`);

    const refused = await viaProxy(server.port, `${foreign.origin}/steal`);
    t.equal(refused.status, 403);
    t.equal(refused.headers['content-type'], 'application/problem+json');
    const problem = JSON.parse(refused.body) as { code: string; origins: string[]; detail: string };
    t.equal(problem.code, 'TOKENSHIM_FOREIGN_ORIGIN');
    t.same(problem.origins, [up.origin, other.origin], 'names the configured origins');
    t.match(problem.detail, foreign.origin);
    t.equal(foreign.requests.length, 0, 'no open relay: nothing reached the foreign origin');
  },
);

t.test('curl: gateway and --proxy', async (t) => {
  const up = await startUpstream(t);
  const { server, stub } = await startProxy(t, [
    makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin) }),
  ]);
  const gateway = await curl([`${server.url}/api/g?x=1`]);
  t.equal(gateway.status, 200, gateway.stderr);
  const proxied = await curl(['--proxy', server.url, `${up.origin}/p?y=2`]);
  t.equal(proxied.status, 200, proxied.stderr);
  t.same(
    up.requests.map((r) => [r.url, r.headers.authorization]),
    [
      ['/g?x=1', `Bearer ${stub('api').currentToken}`],
      ['/p?y=2', `Bearer ${stub('api').currentToken}`],
    ],
  );
});

t.test('CONNECT is answered 501 with a problem body pointing at the gateway URL', async (t) => {
  const up = await startUpstream(t, { tls: true });
  const { server } = await startProxy(t, [makeDsn({ name: 'api', upstream: new URL(up.origin) })]);
  const answer = await new Promise<{ status: number; body: string; type: string | undefined }>(
    (resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: server.port,
        method: 'CONNECT',
        path: `127.0.0.1:${up.port}`,
      });
      req.on('connect', (res, socket, head: Buffer) => {
        // node hands over the bytes after the head with the socket, whatever the status
        let body = head.toString();
        socket.on('error', () => undefined);
        socket.on('data', (c: Buffer) => (body += c.toString()));
        socket.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }),
        );
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
  t.equal(answer.status, 501);
  t.equal(answer.type, 'application/problem+json');
  const problem = JSON.parse(answer.body) as { code: string; detail: string };
  t.equal(problem.code, 'TOKENSHIM_CONNECT_UNSUPPORTED');
  t.match(problem.detail, /gateway URL/);
  t.equal(up.requests.length, 0);

  const viaCurl = await curl(['--proxy', server.url, '--cacert', TEST_CA_FILE, `${up.origin}/x`]);
  t.not(viaCurl.exitCode, 0, 'curl reports the refused tunnel');
  t.match(viaCurl.stderr, /501/);
});

t.test(
  'the absolute form of tokenshim’s own URL is served as the gateway (RFC 9112 3.2.2)',
  async (t) => {
    const up = await startUpstream(t);
    const { server } = await startProxy(t, [
      makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin) }),
    ]);
    const res = await viaProxy(server.port, `${server.url}/api/self`);
    t.equal(res.status, 200);
    t.equal(up.requests[0]!.url, '/self');
  },
);
