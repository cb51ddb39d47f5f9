import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import t from 'tap';
import { request } from 'undici';
import { ConfigError } from '../../lib/errors.js';
import { createLogger } from '../../lib/log/logger.js';
import { startServer } from '../../lib/proxy/server.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { StubProvider } from '../fixtures/stub-provider.js';
import { startUpstream } from '../fixtures/upstream.js';
import { curl, viaProxy, withHost } from './client-requests.js';
import { startProxy } from './proxy-harness.js';

t.test(
  'Host must name loopback or the listen address (DNS rebinding): 421 otherwise',
  async (t) => {
    const up = await startUpstream(t);
    const { server } = await startProxy(t, [
      makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin) }),
    ]);
    const url = `${server.url}/api/x`;
    for (const host of [
      'evil.example',
      `evil.example:${server.port}`,
      '10.0.0.1',
      `127.0.0.1.nip.io:${server.port}`,
    ]) {
      const res = await withHost(url, host);
      t.equal(res.status, 421, host);
      const problem = JSON.parse(res.body) as { code: string; detail: string };
      t.equal(problem.code, 'TOKENSHIM_HOST_NOT_ALLOWED');
      t.match(problem.detail, host.split(':')[0]!);
    }
    const admin = await withHost(`${server.url}/_tokenshim/health`, 'evil.example');
    t.equal(admin.status, 421, 'admin routes too');
    t.equal(up.requests.length, 0, 'nothing was forwarded');
    for (const host of [
      `127.0.0.1:${server.port}`,
      `localhost:${server.port}`,
      'localhost',
      `[::1]:${server.port}`,
      '127.8.9.10',
    ]) {
      const res = await withHost(url, host);
      t.equal(res.status, 200, host);
    }
  },
);

t.test('header count and size are limited (431)', async (t) => {
  const up = await startUpstream(t);
  const { server } = await startProxy(t, [makeDsn({ name: 'api', upstream: new URL(up.origin) })]);
  const many: Record<string, string> = {};
  for (let i = 0; i < 250; i++) many[`x-h-${i}`] = 'v';
  const tooMany = await request(`${server.url}/api/x`, { headers: many });
  t.equal(tooMany.statusCode, 431);
  t.equal(((await tooMany.body.json()) as { code: string }).code, 'TOKENSHIM_TOO_MANY_HEADERS');

  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${server.url}/api/x`, {
      headers: { 'x-big': 'a'.repeat(20_000) },
      agent: false,
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(status, 431, 'a header block over 16 KiB');
  t.equal(up.requests.length, 0);
  const fine = await request(`${server.url}/api/x`);
  await fine.body.dump();
  t.equal(fine.statusCode, 200, 'the server still answers');
});

t.test('binding a non-loopback address needs allowRemote, and warns', async (t) => {
  const dsn = makeDsn({
    name: 'api',
    upstream: new URL('http://127.0.0.1:9'),
    clientKey: 'client-key-0123456789',
  });
  await t.rejects(
    startServer({
      dsns: [dsn],
      host: '0.0.0.0',
      port: 0,
      createProvider: (d) => new StubProvider(d),
    }),
    { name: ConfigError.name, message: /--allow-remote/ },
  );
  const lines: string[] = [];
  const logger = createLogger({
    level: 'warn',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  });
  const server = await startServer({
    dsns: [dsn],
    host: '0.0.0.0',
    port: 0,
    allowRemote: true,
    logger,
    createProvider: (d) => new StubProvider(d),
  });
  t.teardown(() => server.close({ drainMs: 0 }));
  t.match(lines.join(''), /other machines can reach tokenshim/);
  t.match(lines.join(''), /ClientKeys and data cross the network unencrypted/);
  const res = await request(`http://127.0.0.1:${server.port}/_tokenshim/health`);
  t.equal(res.statusCode, 200, 'loopback still works');
  await res.body.dump();
});

t.test(
  'the client Authorization never reaches the upstream for OAuth DSNs, even with odd casing',
  async (t) => {
    const up = await startUpstream(t);
    const { server, stub } = await startProxy(t, [
      makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin) }),
    ]);
    const res = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.url}/api/x`, { agent: false });
      req.setHeader('AUTHORIZATION', 'Bearer from-client');
      req.on('response', (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    t.equal(res, 200);
    const auth = up.requests[0]!.rawHeaders.filter(
      (_v, i, a) => i % 2 === 1 && a[i - 1]!.toLowerCase() === 'authorization',
    );
    t.same(auth, [`Bearer ${stub('api').currentToken}`]);
  },
);

t.test('listening on [::1] works, with [::1] accepted as Host', async (t) => {
  const up = await startUpstream(t);
  const { server } = await startProxy(t, [makeDsn({ name: 'api', upstream: new URL(up.origin) })], {
    host: '::1',
  });
  t.equal(server.url, `http://[::1]:${server.port}`);
  const res = await request(`${server.url}/api/v6`);
  t.equal(res.statusCode, 200);
  await res.body.dump();
  t.equal(up.requests[0]!.headers['x-forwarded-host'], `[::1]:${server.port}`);
});

t.test('TRACE and TRACK are refused, never forwarded with the credential (501)', async (t) => {
  const up = await startUpstream(t);
  const { server } = await startProxy(t, [
    makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin) }),
  ]);
  const trace = await curl(['-s', '-X', 'TRACE', `${server.url}/api/x`]);
  t.equal(trace.status, 501);
  t.match(JSON.parse(trace.body), {
    code: 'TOKENSHIM_METHOD_REFUSED',
    dsn: 'api',
    detail: /does not forward TRACE/,
  });
  // node's parser does not know TRACK (Microsoft's): refused before routing, as a bad request
  const track = await curl(['-s', '-X', 'TRACK', `${server.url}/api/x`]);
  t.equal(track.status, 400, 'TRACK');
  const proxied = await viaProxy(server.port, `${up.origin}/x`, { method: 'TRACE' });
  t.equal(proxied.status, 501, 'as a forward proxy too');
  t.equal(up.requests.length, 0, 'the upstream never saw one');
});

t.test(
  'X-Tokenshim-* headers (admin key, client key, user) never reach the upstream',
  async (t) => {
    const up = await startUpstream(t);
    const { server } = await startProxy(t, [
      makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin) }),
    ]);
    const res = await request(`${server.url}/api/x`, {
      headers: {
        'x-tokenshim-admin-key': 'admin-key-0123456789abcdef',
        'x-tokenshim-key': 'client-key-0123456789abcdef',
        'X-Tokenshim-Admin': '1',
      },
    });
    t.equal(res.statusCode, 200);
    await res.body.dump();
    const names = up.requests[0]!.rawHeaders.filter((_v, i) => i % 2 === 0).map((n) =>
      n.toLowerCase(),
    );
    t.same(
      names.filter((n) => n.startsWith('x-tokenshim')),
      [],
    );
    t.notOk(JSON.stringify(up.requests[0]!.rawHeaders).includes('0123456789abcdef'));
  },
);

t.test(
  'Host: 127.0.0.1:PORT@foreign is refused (421), never reflected into Location or X-Forwarded-Host',
  async (t) => {
    const up = await startUpstream(t, {
      handler: (_req, res) => {
        res.writeHead(302, { location: `${up.origin}/next` });
        res.end();
      },
    });
    const { server } = await startProxy(t, [
      makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin) }),
    ]);
    const url = `${server.url}/api/x`;
    for (const host of [
      `127.0.0.1:${server.port}@evil.example`,
      `localhost:${server.port}@evil.example:80`,
      `127.0.0.1:${server.port}/evil`,
      '127.0.0.1 evil.example',
      'localhost:http',
      `[::1]:${server.port}@evil.example`,
    ]) {
      const res = await withHost(url, host);
      t.equal(res.status, 421, host);
      t.equal(res.headers.location, undefined);
    }
    t.equal(up.requests.length, 0, 'nothing forwarded');
    const fine = await withHost(url, `127.0.0.1:${server.port}`);
    t.equal(fine.status, 302);
    t.equal(fine.headers.location, `http://127.0.0.1:${server.port}/api/next`);
  },
);
