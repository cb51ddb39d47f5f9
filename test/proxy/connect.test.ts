import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  connect as connectTcp,
  createServer as createTcpServer,
  type AddressInfo,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, Writable } from 'node:stream';
import { connect as connectTls, type SecureContext, type TLSSocket } from 'node:tls';
import { Agent, ProxyAgent, request } from 'undici';
import { createLogger } from '../../lib/log/logger.js';
import { createConnectHandler } from '../../lib/proxy/connect/connect-handler.js';
import {
  matchDsnByHostPort,
  parseConnectTarget,
  tunnelOtherHostsEnabled,
} from '../../lib/proxy/connect/target.js';
import type { ConnectEvent } from '../../lib/proxy/connect/types.js';
import { LeafCertificateCache } from '../../lib/tls/leaf-cache.js';
import { LocalCa } from '../../lib/tls/local-ca.js';
import type { DsnConfig } from '../../lib/config/dsn.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { rawConnect, startHttpsUpstream, type HttpsUpstream } from '../tls/https-upstream.js';

const ACCESS_TOKEN = 'at-connect-test-0123456789-secret';

interface Rig {
  proxyPort: number;
  upstream: HttpsUpstream;
  other: HttpsUpstream;
  dsn: DsnConfig;
  ca: LocalCa | undefined;
  events: ConnectEvent[];
  logLines: string[];
  /** the proxy side of every CONNECT, as the handler got it */
  connectSockets: Duplex[];
}

/**
 * A proxy whose only job is CONNECT: an http.Server with the handler under test, and a
 * serveDecrypted that stands in for the gateway's forwarding path (adds the DSN's bearer token,
 * forwards over TLS verified against the upstream's test CA).
 */
async function startRig(
  t: Test,
  opts: {
    intercept?: boolean;
    tunnel?: boolean;
    withCa?: boolean;
    leafCertificates?: (ca: LocalCa) => LeafCertificateCache;
  } = {},
): Promise<Rig> {
  const upstream = await startHttpsUpstream('localhost', { name: 'dsn-upstream' });
  t.teardown(() => upstream.close());
  const other = await startHttpsUpstream('127.0.0.1', { name: 'other-host' });
  t.teardown(() => other.close());
  const ca =
    opts.withCa === false
      ? undefined
      : (await LocalCa.create({ commonName: 'tokenshim test CA' })).ca;
  const dsn = makeDsn({
    name: 'api',
    method: 34,
    upstream: new URL(`https://localhost:${upstream.port}/rest/v1`),
    interceptTls: opts.intercept ?? true,
    tunnelOtherHosts: opts.tunnel ?? false,
  });
  const upstreamAgent = new Agent({ connect: { ca: upstream.caPem } });
  t.teardown(() => upstreamAgent.close());
  const serveDecrypted = (d: DsnConfig, req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && !['host', 'connection', 'authorization'].includes(name))
          headers[name] = value;
      }
      headers.authorization = `Bearer ${ACCESS_TOKEN}`;
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const answer = await request(new URL(req.url ?? '/', d.upstream), {
        method: req.method as 'GET',
        headers,
        body: hasBody ? req : null,
        dispatcher: upstreamAgent,
      });
      res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type']) });
      res.end(Buffer.from(await answer.body.arrayBuffer()));
    })().catch((err: Error) => {
      res.writeHead(599);
      res.end(err.message);
    });
  };
  const events: ConnectEvent[] = [];
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const dsns = [dsn];
  const handler = createConnectHandler({
    findDsnByHostPort: matchDsnByHostPort(dsns),
    serveDecrypted,
    ca,
    tunnelOtherHosts: tunnelOtherHostsEnabled(dsns),
    ...(opts.leafCertificates && ca ? { leafCertificates: opts.leafCertificates(ca) } : {}),
    logger: createLogger({ level: 'debug', destination }),
    onConnect: (e) => events.push(e),
  });
  const proxy = createServer((_req, res) => res.writeHead(404).end());
  const connectSockets: Duplex[] = [];
  proxy.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    connectSockets.push(socket);
    handler(req, socket, head);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    await handler.close();
    proxy.closeAllConnections();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  });
  return {
    proxyPort: (proxy.address() as AddressInfo).port,
    upstream,
    other,
    dsn,
    ca,
    events,
    logLines,
    connectSockets,
  };
}

async function getThroughProxy(
  rig: Rig,
  url: string,
  ca: string | undefined,
): Promise<{ status: number; body: string }> {
  const agent = new ProxyAgent({
    uri: `http://127.0.0.1:${rig.proxyPort}`,
    requestTls: ca === undefined ? {} : { ca },
  });
  try {
    const answer = await request(url, { dispatcher: agent });
    return { status: answer.statusCode, body: await answer.body.text() };
  } finally {
    await agent.close();
  }
}

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['--silent', '--show-error', '--noproxy', '', ...args],
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

t.test(
  'intercepted CONNECT: a node client with a proxy agent reaches the upstream, which sees the token',
  async (t) => {
    const rig = await startRig(t);
    const answer = await getThroughProxy(
      rig,
      `https://localhost:${rig.upstream.port}/rest/v1/items?page=2`,
      rig.ca?.certificatePem,
    );
    t.equal(answer.status, 200);
    t.same(JSON.parse(answer.body), {
      upstream: 'dsn-upstream',
      url: '/rest/v1/items?page=2',
      authorization: `Bearer ${ACCESS_TOKEN}`,
    });
    t.equal(rig.upstream.seen.length, 1);
    t.same(rig.events, [
      { target: `localhost:${rig.upstream.port}`, outcome: 'intercepted', dsn: 'api' },
    ]);
  },
);

t.test(
  'intercepted CONNECT: curl --proxy --cacert <tokenshim CA> reaches the upstream with the token',
  async (t) => {
    const rig = await startRig(t);
    const dir = await mkdtemp(join(tmpdir(), 'tokenshim-connect-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const caFile = join(dir, 'tokenshim-ca.crt');
    await writeFile(caFile, rig.ca?.certificatePem ?? '');
    const url = `https://localhost:${rig.upstream.port}/rest/v1/orders`;
    const first = await curl([
      '--proxy',
      `http://127.0.0.1:${rig.proxyPort}`,
      '--cacert',
      caFile,
      url,
    ]);
    t.equal(first.code, 0, first.stderr);
    t.same(JSON.parse(first.stdout), {
      upstream: 'dsn-upstream',
      url: '/rest/v1/orders',
      authorization: `Bearer ${ACCESS_TOKEN}`,
    });

    // without the tokenshim CA, curl refuses the leaf: interception is visible, never silent
    const untrusted = await curl(['--proxy', `http://127.0.0.1:${rig.proxyPort}`, url]);
    t.equal(untrusted.code, 60, 'curl exit 60: peer certificate cannot be authenticated');
    t.equal(rig.upstream.seen.length, 1, 'the untrusting client never reached the upstream');
    t.ok(
      rig.logLines.some((l) => l.includes('does it trust the tokenshim CA')),
      'the log says which certificate the client is missing',
    );
  },
);

t.test('a second CONNECT to the same host reuses the cached certificate', async (t) => {
  const rig = await startRig(t);
  const url = `https://localhost:${rig.upstream.port}/rest/v1/a`;
  await getThroughProxy(rig, url, rig.ca?.certificatePem);
  t.equal(rig.ca?.leavesIssued, 1);
  await getThroughProxy(rig, url, rig.ca?.certificatePem);
  t.equal(rig.ca?.leavesIssued, 1, 'second connection, same leaf');
  t.equal(rig.upstream.seen.length, 2);
  t.equal(rig.events.filter((e) => e.outcome === 'intercepted').length, 2, 'two separate CONNECTs');
});

t.test('concurrent first CONNECTs to one host sign one certificate', async (t) => {
  const ca = (await LocalCa.create()).ca;
  const cache = new LeafCertificateCache(ca);
  const contexts = await Promise.all(
    Array.from({ length: 10 }, () => cache.secureContextFor('Api.Example.com')),
  );
  t.equal(ca.leavesIssued, 1);
  t.ok(
    contexts.every((c) => c === contexts[0]),
    'host names are matched case-insensitively',
  );
});

t.test(
  'a host that is not configured is refused with 403 by default and never gets a token',
  async (t) => {
    const rig = await startRig(t);
    const answer = await rawConnect(rig.proxyPort, `127.0.0.1:${rig.other.port}`);
    t.equal(answer.status, 403);
    t.equal(answer.headers['content-type'], 'application/problem+json');
    const problem = JSON.parse(answer.body) as Record<string, unknown>;
    t.equal(problem.code, 'TOKENSHIM_CONNECT_REFUSED');
    t.match(problem.detail, /not the host of any DSN.*TunnelOtherHosts=1/);
    t.equal(problem.target, `127.0.0.1:${rig.other.port}`);
    t.equal(rig.other.seen.length, 0);
    t.equal(rig.events[0]?.outcome, 'refused');
  },
);

t.test(
  'with TunnelOtherHosts=1 another host is tunnelled untouched: its own certificate, no token',
  async (t) => {
    const rig = await startRig(t, { tunnel: true });
    // trusting only the other host's own CA proves the bytes were not decrypted on the way
    const answer = await getThroughProxy(
      rig,
      `https://127.0.0.1:${rig.other.port}/plain`,
      rig.other.caPem,
    );
    t.equal(answer.status, 200);
    t.same(JSON.parse(answer.body), { upstream: 'other-host', url: '/plain', authorization: null });
    t.equal(rig.ca?.leavesIssued, 0, 'no leaf was signed for a tunnelled host');
    t.same(rig.events, [{ target: `127.0.0.1:${rig.other.port}`, outcome: 'tunnelled' }]);
  },
);

t.test('the configured host is still intercepted when tunnelling is on', async (t) => {
  const rig = await startRig(t, { tunnel: true });
  const answer = await getThroughProxy(
    rig,
    `https://localhost:${rig.upstream.port}/rest/v1/x`,
    rig.ca?.certificatePem,
  );
  t.equal(JSON.parse(answer.body).authorization, `Bearer ${ACCESS_TOKEN}`);
});

t.test(
  'InterceptTLS=1 without a CA: 502 telling the user to run `tokenshim ca init`',
  async (t) => {
    const rig = await startRig(t, { withCa: false });
    const answer = await rawConnect(rig.proxyPort, `localhost:${rig.upstream.port}`);
    t.equal(answer.status, 502);
    const problem = JSON.parse(answer.body) as Record<string, unknown>;
    t.equal(problem.code, 'TOKENSHIM_CA_MISSING');
    t.equal(problem.dsn, 'api');
    t.match(problem.detail, /DSN "api" has InterceptTLS=1.*Run `tokenshim ca init`/);
    t.equal(rig.upstream.seen.length, 0);
  },
);

t.test(
  'a DSN host without InterceptTLS: refused naming InterceptTLS, or tunnelled without a token',
  async (t) => {
    t.test('tunnelling off', async (t) => {
      const rig = await startRig(t, { intercept: false });
      const answer = await rawConnect(rig.proxyPort, `localhost:${rig.upstream.port}`);
      t.equal(answer.status, 403);
      const problem = JSON.parse(answer.body) as Record<string, unknown>;
      t.equal(problem.dsn, 'api');
      t.match(problem.detail, /DSN "api" does not have InterceptTLS=1/);
      t.match(problem.detail, `or call http://127.0.0.1:${rig.proxyPort}/api/ instead`);
    });
    t.test('tunnelling on', async (t) => {
      const rig = await startRig(t, { intercept: false, tunnel: true });
      const answer = await getThroughProxy(
        rig,
        `https://localhost:${rig.upstream.port}/rest/v1/y`,
        rig.upstream.caPem,
      );
      t.same(JSON.parse(answer.body).authorization, null);
      t.ok(
        rig.logLines.some((l) => l.includes('set InterceptTLS=1 on the DSN')),
        'the log says why no token',
      );
    });
  },
);

t.test('malformed CONNECT targets are answered 400', async (t) => {
  const rig = await startRig(t);
  for (const target of [
    'localhost',
    'localhost:0',
    'localhost:70000',
    'user@localhost:443',
    '[zz::1]:443',
  ]) {
    const answer = await rawConnect(rig.proxyPort, target);
    t.equal(answer.status, 400, target);
    t.match(JSON.parse(answer.body).detail, /CONNECT needs a target of the form host:port/, target);
  }
});

t.test('a tunnel whose target does not answer: 502 naming the target', async (t) => {
  const rig = await startRig(t, { tunnel: true });
  const closed = createTcpServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const answer = await rawConnect(rig.proxyPort, `127.0.0.1:${port}`);
  t.equal(answer.status, 502);
  const problem = JSON.parse(answer.body) as Record<string, unknown>;
  t.equal(problem.code, 'TOKENSHIM_TUNNEL_FAILED');
  t.match(problem.detail, new RegExp(`could not reach 127\\.0\\.0\\.1:${port}`));
});

t.test(
  'a decrypted request naming another Host is refused 421 and never reaches the upstream',
  async (t) => {
    const rig = await startRig(t);
    const answer = await rawConnect(rig.proxyPort, `localhost:${rig.upstream.port}`);
    t.equal(answer.status, 200);
    const tls = connectTls({
      socket: answer.socket,
      servername: 'localhost',
      ca: rig.ca?.certificatePem,
    });
    t.teardown(() => tls.destroy());
    await new Promise((resolve) => tls.once('secureConnect', resolve));
    tls.write('GET /rest/v1/x HTTP/1.1\r\nHost: evil.example\r\n\r\n');
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      tls.on('data', (c: Buffer) => (text += c.toString()));
      tls.on('end', () => resolve(text));
    });
    t.match(reply, /^HTTP\/1\.1 421 /);
    t.match(reply, /opened for localhost:\d+; its requests must have that Host header/);
    t.equal(rig.upstream.seen.length, 0);
  },
);

/**
 * A TLS client over a raw socket that has sent `CONNECT target`: its ClientHello goes out at
 * once, without waiting for the proxy's answer, whose status line is returned and whose bytes the
 * TLS client never sees.
 */
function tlsAfterConnect(
  raw: Socket,
  caPem: string | undefined,
): { tls: TLSSocket; status: Promise<string> } {
  let skipped = false;
  let pending = Buffer.alloc(0);
  let statusLine: (line: string) => void = () => undefined;
  const status = new Promise<string>((resolve) => (statusLine = resolve));
  const afterConnect = new Duplex({
    read() {},
    write(chunk: Buffer, _e, cb) {
      raw.write(chunk, cb);
    },
  });
  raw.on('data', (chunk: Buffer) => {
    if (skipped) {
      afterConnect.push(chunk);
      return;
    }
    pending = Buffer.concat([pending, chunk]);
    const end = pending.indexOf('\r\n\r\n');
    if (end < 0) return;
    skipped = true;
    statusLine(pending.subarray(0, pending.indexOf('\r\n')).toString());
    if (pending.length > end + 4) afterConnect.push(pending.subarray(end + 4));
  });
  const tls = connectTls({ socket: afterConnect, servername: 'localhost', ca: caPem });
  return { tls, status };
}

async function getOverTls(tls: TLSSocket, port: number, path: string): Promise<string> {
  await new Promise((resolve) => tls.once('secureConnect', resolve));
  tls.write(`GET ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`);
  return new Promise<string>((resolve) => {
    let text = '';
    tls.on('data', (c: Buffer) => (text += c.toString()));
    tls.on('end', () => resolve(text));
  });
}

t.test('a client that sends its ClientHello with the CONNECT (head) is still served', async (t) => {
  const rig = await startRig(t);
  const raw = connectTcp({ host: '127.0.0.1', port: rig.proxyPort });
  t.teardown(() => raw.destroy());
  await new Promise((resolve) => raw.once('connect', resolve));
  // corked, the CONNECT and the ClientHello leave in one segment: the proxy gets the ClientHello
  // as the CONNECT's `head`
  raw.cork();
  raw.write(
    `CONNECT localhost:${rig.upstream.port} HTTP/1.1\r\nHost: localhost:${rig.upstream.port}\r\n\r\n`,
  );
  const { tls, status } = tlsAfterConnect(raw, rig.ca?.certificatePem);
  t.teardown(() => tls.destroy());
  process.nextTick(() => raw.uncork());
  const reply = await getOverTls(tls, rig.upstream.port, '/rest/v1/early');
  t.match(await status, /^HTTP\/1\.1 200 /);
  t.match(reply, /^HTTP\/1\.1 200 /);
  t.match(reply, new RegExp(`"authorization":"Bearer ${ACCESS_TOKEN}"`));
});

t.test(
  'a leaf that cannot be signed: 502 naming the DSN, and the next CONNECT tries again',
  async (t) => {
    let failures = 1;
    class FailingOnce extends LeafCertificateCache {
      override async secureContextFor(host: string): Promise<SecureContext> {
        if (failures-- > 0) throw new Error('signing failed');
        return super.secureContextFor(host);
      }
    }
    const rig = await startRig(t, { leafCertificates: (ca) => new FailingOnce(ca) });
    const answer = await rawConnect(rig.proxyPort, `localhost:${rig.upstream.port}`);
    t.equal(answer.status, 502);
    const problem = JSON.parse(answer.body) as Record<string, unknown>;
    t.equal(problem.code, 'TOKENSHIM_CA_INVALID');
    t.match(problem.detail, /DSN "api": tokenshim could not sign a certificate for localhost/);
    const retry = await getThroughProxy(
      rig,
      `https://localhost:${rig.upstream.port}/rest/v1/again`,
      rig.ca?.certificatePem,
    );
    t.equal(retry.status, 200);
  },
);

t.test('a ClientHello that arrives while the leaf is being signed is not lost', async (t) => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered: () => void = () => undefined;
  const signing = new Promise<void>((resolve) => (entered = resolve));
  class GatedCache extends LeafCertificateCache {
    override async secureContextFor(host: string): Promise<SecureContext> {
      entered();
      await gate;
      return super.secureContextFor(host);
    }
  }
  const rig = await startRig(t, { leafCertificates: (ca) => new GatedCache(ca) });
  const raw = connectTcp({ host: '127.0.0.1', port: rig.proxyPort });
  t.teardown(() => raw.destroy());
  await new Promise((resolve) => raw.once('connect', resolve));
  raw.write(
    `CONNECT localhost:${rig.upstream.port} HTTP/1.1\r\nHost: localhost:${rig.upstream.port}\r\n\r\n`,
  );
  await signing;
  const { tls, status } = tlsAfterConnect(raw, rig.ca?.certificatePem);
  t.teardown(() => tls.destroy());
  // the ClientHello is on the wire before the proxy has its certificate
  const proxySide = rig.connectSockets[0];
  while ((proxySide?.readableLength ?? 0) === 0)
    await new Promise((resolve) => setImmediate(resolve));
  release();
  const reply = await getOverTls(tls, rig.upstream.port, '/rest/v1/late');
  t.match(await status, /^HTTP\/1\.1 200 /);
  t.match(reply, new RegExp(`"authorization":"Bearer ${ACCESS_TOKEN}"`));
});

t.test(
  'no token, client credential or CA key ever reaches the log or a problem body',
  async (t) => {
    const rig = await startRig(t, { tunnel: true });
    const clientSecret = 'client-sent-proxy-password-987654';
    await getThroughProxy(
      rig,
      `https://localhost:${rig.upstream.port}/rest/v1/z`,
      rig.ca?.certificatePem,
    );
    await getThroughProxy(rig, `https://127.0.0.1:${rig.other.port}/z`, rig.other.caPem);
    const refused = await rawConnect(
      rig.proxyPort,
      'nowhere',
      `Proxy-Authorization: Basic ${clientSecret}\r\n`,
    );
    t.equal(refused.status, 400);
    const everything = rig.logLines.join('\n') + refused.body;
    t.ok(rig.logLines.length > 0, 'something was logged');
    t.notMatch(everything, ACCESS_TOKEN);
    t.notMatch(everything, clientSecret);
    t.notMatch(everything, /PRIVATE KEY/);
  },
);

t.test('parseConnectTarget', async (t) => {
  t.same(parseConnectTarget('API.example.com:443'), { host: 'api.example.com', port: 443 });
  t.same(parseConnectTarget('[::1]:8443'), { host: '::1', port: 8443 });
  t.same(parseConnectTarget('10.0.0.1:1'), { host: '10.0.0.1', port: 1 });
  for (const bad of [
    '',
    'host',
    'host:',
    ':443',
    'host:0',
    'host:65536',
    'a b:443',
    '::1:443',
    'http://h:443',
  ]) {
    t.equal(parseConnectTarget(bad), undefined, JSON.stringify(bad));
  }
});

t.test(
  'matchDsnByHostPort: host and port (443 implied for https), and InterceptTLS wins a shared host',
  async (t) => {
    const plain = makeDsn({ name: 'plain', upstream: new URL('https://api.example.com/v1') });
    const intercepted = makeDsn({
      name: 'intercepted',
      upstream: new URL('https://API.example.com:443/v2'),
      interceptTls: true,
    });
    const other = makeDsn({ name: 'other', upstream: new URL('https://api.example.com:8443') });
    const v6 = makeDsn({ name: 'v6', upstream: new URL('https://[::1]:9443') });
    const find = matchDsnByHostPort([plain, intercepted, other, v6]);
    t.equal(find('api.example.com', 443)?.name, 'intercepted');
    t.equal(find('api.example.com', 8443)?.name, 'other');
    t.equal(find('::1', 9443)?.name, 'v6');
    t.equal(find('api.example.com', 80), undefined);
    t.equal(find('example.com', 443), undefined);
    t.equal(matchDsnByHostPort([plain])('api.example.com', 443)?.name, 'plain');
  },
);

t.test(
  'matchDsnByHostPort: an AllowedHosts origin matches too, but a DSN whose HostName it is wins',
  async (t) => {
    const cdn = makeDsn({
      name: 'cdn-user',
      upstream: new URL('https://api.example.com'),
      credentialOrigins: ['https://api.example.com', 'https://files.example.com'],
      interceptTls: true,
    });
    const files = makeDsn({
      name: 'files',
      upstream: new URL('https://files.example.com'),
      interceptTls: true,
    });
    t.equal(matchDsnByHostPort([cdn])('files.example.com', 443)?.name, 'cdn-user');
    t.equal(matchDsnByHostPort([cdn, files])('files.example.com', 443)?.name, 'files');
    const plainHttp = makeDsn({
      name: 'plain-http',
      upstream: new URL('http://api.example.com:8080'),
    });
    t.equal(
      matchDsnByHostPort([plainHttp])('api.example.com', 8080),
      undefined,
      'TLS to an http:// upstream is never intercepted',
    );
  },
);

t.test('tunnelOtherHostsEnabled: TunnelOtherHosts=1 on any DSN turns tunnelling on', async (t) => {
  t.equal(tunnelOtherHostsEnabled([makeDsn(), makeDsn()]), false);
  t.equal(tunnelOtherHostsEnabled([makeDsn(), makeDsn({ tunnelOtherHosts: true })]), true);
  t.equal(tunnelOtherHostsEnabled([]), false);
});
