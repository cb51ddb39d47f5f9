import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { ProxyAgent, request } from 'undici';
import { rawConnect } from '../tls/https-upstream.js';
import { startRig } from './connect-rig.js';

/**
 * HTTPS through the proxy end to end: tokenshim's real proxy (startServer) with the CONNECT handler plugged in,
 * a CA made by `tokenshim ca init`, and HTTPS upstreams on loopback whose certificates tokenshim
 * verifies through the DSN's TrustStore.
 */

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
  'curl --proxy --cacert <tokenshim CA> reaches the HTTPS upstream, which sees the token',
  async (t) => {
    const rig = await startRig(t);
    const url = `https://localhost:${rig.upstream.port}/rest/v1/items?page=2`;
    const out = await curl([
      '--proxy',
      rig.proxy.server.url,
      '--cacert',
      rig.caCertificatePath,
      url,
    ]);
    t.equal(out.code, 0, out.stderr);
    const token = rig.proxy.stub('api').currentToken;
    t.same(JSON.parse(out.stdout), {
      upstream: 'dsn-upstream',
      url: '/rest/v1/items?page=2',
      authorization: `Bearer ${token}`,
    });
    t.equal(rig.upstream.seen[0]?.headers.host, `localhost:${rig.upstream.port}`);
  },
);

t.test('a node client with undici ProxyAgent reaches it too, POST body and all', async (t) => {
  const rig = await startRig(t);
  const agent = new ProxyAgent({
    uri: rig.proxy.server.url,
    requestTls: { ca: rig.ca.certificatePem },
  });
  t.teardown(() => agent.close());
  const answer = await request(`https://localhost:${rig.upstream.port}/rest/v1/orders`, {
    dispatcher: agent,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Basic Y2xpZW50OnNlbGY=' },
    body: JSON.stringify({ qty: 3 }),
  });
  t.equal(answer.statusCode, 200);
  const token = rig.proxy.stub('api').currentToken;
  t.equal(
    ((await answer.body.json()) as { authorization: string }).authorization,
    `Bearer ${token}`,
  );
  const seen = rig.upstream.seen[0];
  t.equal(seen?.method, 'POST');
  t.equal(seen?.body, '{"qty":3}');
  t.equal(
    seen?.headers.authorization,
    `Bearer ${token}`,
    "the client's own Authorization was replaced",
  );
});

t.test('a second CONNECT to the same host reuses the cached certificate', async (t) => {
  const rig = await startRig(t);
  const url = `https://localhost:${rig.upstream.port}/rest/v1/again`;
  for (let i = 0; i < 3; i++) {
    const out = await curl([
      '--proxy',
      rig.proxy.server.url,
      '--cacert',
      rig.caCertificatePath,
      url,
    ]);
    t.equal(out.code, 0, out.stderr);
  }
  t.equal(rig.events.filter((e) => e.outcome === 'intercepted').length, 3, 'three CONNECTs');
  t.equal(rig.ca.leavesIssued, 1, 'one certificate generation');
  t.equal(rig.upstream.seen.length, 3);
});

t.test('a host no DSN names is refused 403 by default and never gets a token', async (t) => {
  const rig = await startRig(t);
  const out = await curl([
    '--proxy',
    rig.proxy.server.url,
    '--cacert',
    rig.caCertificatePath,
    `https://127.0.0.1:${rig.other.port}/x`,
  ]);
  t.equal(out.code, 56, 'curl: CONNECT tunnel failed');
  t.match(out.stderr, /CONNECT tunnel failed, response 403/);
  const answer = await rawConnect(rig.proxy.server.port, `127.0.0.1:${rig.other.port}`);
  t.equal(answer.status, 403);
  t.equal(JSON.parse(answer.body).code, 'TOKENSHIM_CONNECT_REFUSED');
  t.equal(rig.other.seen.length, 0);
});

t.test('with TunnelOtherHosts=1 on any DSN, another host is tunnelled untouched', async (t) => {
  const rig = await startRig(t, { tunnelOtherHosts: true });
  const dir = await mkdtemp(join(tmpdir(), 'tokenshim-other-ca-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const otherCa = join(dir, 'other.pem');
  await writeFile(otherCa, rig.other.caPem);
  // only the other host's own CA is trusted: this works only if the TLS is not intercepted
  const out = await curl([
    '--proxy',
    rig.proxy.server.url,
    '--cacert',
    otherCa,
    `https://127.0.0.1:${rig.other.port}/x`,
  ]);
  t.equal(out.code, 0, out.stderr);
  t.same(JSON.parse(out.stdout), { upstream: 'other-host', url: '/x', authorization: null });
  t.equal(rig.other.seen[0]?.headers.authorization, undefined);
  t.equal(rig.ca.leavesIssued, 0);
  t.same(rig.events, [{ target: `127.0.0.1:${rig.other.port}`, outcome: 'tunnelled' }]);
});

t.test('the token never appears in the proxy log', async (t) => {
  const rig = await startRig(t);
  const out = await curl([
    '--proxy',
    rig.proxy.server.url,
    '--cacert',
    rig.caCertificatePath,
    `https://localhost:${rig.upstream.port}/rest/v1/log`,
  ]);
  t.equal(out.code, 0, out.stderr);
  const token = rig.proxy.stub('api').currentToken;
  t.ok(rig.logLines.length > 0);
  t.notMatch(rig.logLines.join('\n'), token);
  t.notMatch(rig.logLines.join('\n'), /PRIVATE KEY/);
});

t.test('closing the proxy ends its tunnels and intercepted connections', async (t) => {
  const rig = await startRig(t, { tunnelOtherHosts: true });
  const intercepted = await rawConnect(rig.proxy.server.port, `localhost:${rig.upstream.port}`);
  const tunnelled = await rawConnect(rig.proxy.server.port, `127.0.0.1:${rig.other.port}`);
  t.same([intercepted.status, tunnelled.status], [200, 200]);
  const ended = (s: typeof intercepted.socket): Promise<void> =>
    new Promise((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));
  await rig.proxy.server.close({ drainMs: 0 });
  await Promise.all([ended(intercepted.socket), ended(tunnelled.socket)]);
  t.pass('both client sockets were closed by the proxy');
});

t.test(
  'Expect: 100-continue through an intercepted CONNECT: answered by tokenshim, body whole',
  async (t) => {
    const rig = await startRig(t);
    const body = 'q'.repeat(64 * 1024);
    const out = await curl([
      '--proxy',
      rig.proxy.server.url,
      '--cacert',
      rig.caCertificatePath,
      '-H',
      'Expect: 100-continue',
      '-H',
      'content-type: text/plain',
      '--data-binary',
      body,
      `https://localhost:${rig.upstream.port}/rest/v1/upload`,
    ]);
    t.equal(out.code, 0, out.stderr);
    const seen = rig.upstream.seen[0];
    t.equal(seen?.body.length, body.length);
    t.equal(seen?.headers.expect, undefined, 'never forwarded (undici refuses it)');
    t.equal(seen?.headers.authorization, `Bearer ${rig.proxy.stub('api').currentToken}`);
  },
);

t.test(
  'an intercepted connection that says nothing after the handshake is closed with 408',
  async (t) => {
    const rig = await startRig(t, { clientTimeouts: { headersMs: 300, idleMs: 400 } });
    const open = await rawConnect(rig.proxy.server.port, `localhost:${rig.upstream.port}`);
    t.equal(open.status, 200);
    const tls = connectTls({
      socket: open.socket,
      ca: rig.ca.certificatePem,
      servername: 'localhost',
    });
    t.teardown(() => tls.destroy());
    let text = '';
    tls.on('data', (c: Buffer) => (text += c.toString('latin1')));
    tls.on('error', () => undefined);
    await new Promise<void>((resolve) => tls.once('secureConnect', () => resolve()));
    const closed = await new Promise<boolean>((resolve) => {
      const bound = setTimeout(() => resolve(false), 15_000);
      tls.once('close', () => {
        clearTimeout(bound);
        resolve(true);
      });
    });
    t.ok(closed, 'closed by tokenshim');
    t.match(text, /^HTTP\/1\.1 408/);
  },
);
