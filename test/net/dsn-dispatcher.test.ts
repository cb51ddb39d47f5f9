import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import t, { type Test } from 'tap';
import { request, type Dispatcher } from 'undici';
import type { DsnConfig } from '../../lib/config/dsn.js';
import {
  createDsnDispatcher,
  dsnTimeouts,
  type DsnDispatcherOptions,
  type DsnDispatcherPurpose,
} from '../../lib/net/dsn-dispatcher.js';
import { LocalCa } from '../../lib/tls/local-ca.js';
import { startCorporateProxy } from '../fixtures/corporate-proxy.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startUpstream } from '../fixtures/upstream.js';

const PURPOSES: readonly DsnDispatcherPurpose[] = ['token-endpoint', 'upstream'];

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface TlsServer {
  readonly port: number;
  /** the SNI of each TLS connection ('' when the client sent none) */
  readonly servernames: string[];
  /** sends the held bodies, and stops holding new ones */
  release(): void;
}

/** An https server on 127.0.0.1 with a certificate for `host` signed by `ca`, answering "ok". */
async function startTlsServer(
  t: Test,
  ca: LocalCa,
  host: string,
  opts: { holdBody?: boolean } = {},
): Promise<TlsServer> {
  const leaf = await ca.issueLeaf(host);
  const servernames: string[] = [];
  const held: (() => void)[] = [];
  let holding = opts.holdBody === true;
  const server: Server = createHttpsServer(
    { cert: leaf.certificatePem, key: leaf.keyPem },
    (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      if (holding) {
        res.flushHeaders();
        held.push(() => res.end('ok'));
      } else res.end('ok');
    },
  );
  server.on('secureConnection', (socket: TLSSocket) =>
    servernames.push((socket as TLSSocket & { servername?: string | false }).servername || ''),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        held.splice(0).forEach((f) => f());
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    port: (server.address() as AddressInfo).port,
    servernames,
    release: () => {
      holding = false;
      held.splice(0).forEach((f) => f());
    },
  };
}

interface Pki {
  /** a private CA, the kind a TrustStore holds */
  readonly privateCa: LocalCa;
  readonly privateCaFile: string;
  /** a CA standing in for a public one (Entra ID's, Google's): it is in the injected roots */
  readonly publicCa: LocalCa;
  readonly dir: string;
}

async function makePki(t: Test): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-net-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const privateCa = (await LocalCa.create({ commonName: 'private CA A' })).ca;
  const publicCa = (await LocalCa.create({ commonName: 'public CA B' })).ca;
  const privateCaFile = join(dir, 'private-ca.pem');
  writeFileSync(privateCaFile, privateCa.certificatePem);
  return { privateCa, privateCaFile, publicCa, dir };
}

/** GETs `url` through the dispatcher: 'ok' for a 200, or the failure's innermost code. */
async function outcome(dispatcher: Dispatcher, url: string): Promise<string> {
  try {
    const res = await request(url, { dispatcher });
    // read to the end: a body that stalls must fail here, as it would for a caller
    await res.body.text();
    return res.statusCode === 200 ? 'ok' : `HTTP ${res.statusCode}`;
  } catch (e) {
    let err = e as { code?: string; cause?: unknown; message?: string };
    while (err.cause !== undefined && (err.cause as { code?: string }).code !== undefined) {
      err = err.cause as typeof err;
    }
    return err.code ?? err.message ?? String(e);
  }
}

function dispatcherFor(t: Test, dsn: DsnConfig, opts: DsnDispatcherOptions): Dispatcher {
  const d = createDsnDispatcher(dsn, opts);
  t.teardown(() => d.close());
  return d;
}

t.test('TrustStore adds to the trusted roots, for both purposes', async (t) => {
  const pki = await makePki(t);
  const upstream = await startTlsServer(t, pki.privateCa, 'localhost');
  const tokenEndpoint = await startTlsServer(t, pki.publicCa, '127.0.0.1');
  const upstreamUrl = `https://localhost:${upstream.port}/`;
  const tokenUrl = `https://127.0.0.1:${tokenEndpoint.port}/token`;
  const systemRoots = [pki.publicCa.certificatePem];
  for (const purpose of PURPOSES) {
    t.test(purpose, async (t) => {
      const withTrustStore = dispatcherFor(
        t,
        makeDsn({ name: 'a', upstream: new URL(upstreamUrl), trustStore: pki.privateCaFile }),
        { purpose, env: {}, systemRoots },
      );
      t.equal(await outcome(withTrustStore, upstreamUrl), 'ok', 'private-CA upstream trusted');
      t.equal(
        await outcome(withTrustStore, tokenUrl),
        'ok',
        'public-CA token endpoint still trusted next to the TrustStore',
      );

      const without = dispatcherFor(t, makeDsn({ name: 'a', upstream: new URL(upstreamUrl) }), {
        purpose,
        env: {},
        systemRoots,
      });
      t.equal(await outcome(without, upstreamUrl), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      t.equal(await outcome(without, tokenUrl), 'ok');

      const unchecked = dispatcherFor(
        t,
        makeDsn({ name: 'a', upstream: new URL(upstreamUrl), validateServerCertificate: false }),
        { purpose, env: {}, systemRoots: [] },
      );
      t.equal(await outcome(unchecked, upstreamUrl), 'ok', 'ValidateServerCertificate=0');
      t.equal(await outcome(unchecked, tokenUrl), 'ok', 'ValidateServerCertificate=0');
    });
  }
});

t.test('without injected roots, node’s public roots do not trust a private CA', async (t) => {
  const pki = await makePki(t);
  const upstream = await startTlsServer(t, pki.privateCa, 'localhost');
  const url = `https://localhost:${upstream.port}/`;
  for (const purpose of PURPOSES) {
    const plain = dispatcherFor(t, makeDsn({ name: 'a', upstream: new URL(url) }), {
      purpose,
      env: {},
    });
    t.equal(await outcome(plain, url), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', purpose);
    const trusted = dispatcherFor(
      t,
      makeDsn({ name: 'a', upstream: new URL(url), trustStore: pki.privateCaFile }),
      { purpose, env: {} },
    );
    t.equal(await outcome(trusted, url), 'ok', `${purpose}: TrustStore on top of node's roots`);
  }
});

t.test(
  'HostNameInCertificate: the name HostName’s certificate must carry; SNI unchanged; other hosts checked by their own name',
  async (t) => {
    const pki = await makePki(t);
    // HostName is https://localhost:<port>, but the server's certificate names upstream.test
    const renamed = await startTlsServer(t, pki.privateCa, 'upstream.test');
    const elsewhere = await startTlsServer(t, pki.publicCa, '127.0.0.1');
    const upstreamUrl = `https://localhost:${renamed.port}/`;
    const otherUrl = `https://127.0.0.1:${elsewhere.port}/token`;
    const dsn = (hostNameInCertificate?: string): DsnConfig =>
      makeDsn({
        name: 'a',
        upstream: new URL(upstreamUrl),
        trustStore: pki.privateCaFile,
        ...(hostNameInCertificate === undefined ? {} : { hostNameInCertificate }),
      });
    const systemRoots = [pki.publicCa.certificatePem];
    for (const purpose of PURPOSES) {
      t.test(purpose, async (t) => {
        const none = dispatcherFor(t, dsn(), { purpose, env: {}, systemRoots });
        t.equal(await outcome(none, upstreamUrl), 'ERR_TLS_CERT_ALTNAME_INVALID');

        const wrong = dispatcherFor(t, dsn('other.example'), { purpose, env: {}, systemRoots });
        t.equal(await outcome(wrong, upstreamUrl), 'ERR_TLS_CERT_ALTNAME_INVALID');

        const before = renamed.servernames.length;
        const right = dispatcherFor(t, dsn('upstream.test'), { purpose, env: {}, systemRoots });
        t.equal(await outcome(right, upstreamUrl), 'ok');
        t.same(renamed.servernames.slice(before), ['localhost'], 'SNI is still HostName’s host');
        t.equal(
          await outcome(right, otherUrl),
          'ok',
          'a token endpoint on another host is checked against its own name',
        );
      });
    }
  },
);

t.test('ProxyHost/ProxyPort/ProxyUser/ProxyPassword, for both purposes', async (t) => {
  const pki = await makePki(t);
  const secure = await startTlsServer(t, pki.privateCa, 'localhost');
  const plain = await startUpstream(t);
  const corp = await startCorporateProxy(t, basic('proxy-user', 'proxy-pass'));
  const dsn = (password: string): DsnConfig =>
    makeDsn({
      name: 'a',
      upstream: new URL(`https://localhost:${secure.port}`),
      trustStore: pki.privateCaFile,
      outboundProxy: { host: '127.0.0.1', port: corp.port, user: 'proxy-user', password },
    });
  for (const purpose of PURPOSES) {
    t.test(purpose, async (t) => {
      corp.tunnels.length = 0;
      const d = dispatcherFor(t, dsn('proxy-pass'), {
        purpose,
        // ProxyHost wins over the environment
        env: { HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' },
      });
      t.equal(await outcome(d, `https://localhost:${secure.port}/`), 'ok', 'https, TLS end to end');
      t.equal(await outcome(d, `${plain.origin}/`), 'ok', 'http');
      t.same(corp.tunnels, [
        { target: `localhost:${secure.port}`, auth: basic('proxy-user', 'proxy-pass') },
        { target: `127.0.0.1:${plain.port}`, auth: basic('proxy-user', 'proxy-pass') },
      ]);
      const refused = dispatcherFor(t, dsn('wrong'), { purpose, env: {} });
      await t.rejects(
        request(`${plain.origin}/`, { dispatcher: refused }),
        { message: /Proxy response \(407\)/ },
        'the proxy refused the wrong password',
      );
    });
  }
});

t.test('an IPv6 ProxyHost is bracketed, for both purposes', async (t) => {
  const plain = await startUpstream(t);
  const corp = await startCorporateProxy(t, undefined, { host: '::1' });
  for (const purpose of PURPOSES) {
    const d = dispatcherFor(
      t,
      makeDsn({ name: 'a', outboundProxy: { host: '::1', port: corp.port } }),
      { purpose, env: {} },
    );
    t.equal(await outcome(d, `${plain.origin}/`), 'ok', purpose);
  }
  t.equal(corp.tunnels.length, PURPOSES.length);
});

t.test('HTTP(S)_PROXY and NO_PROXY from the environment, for both purposes', async (t) => {
  const pki = await makePki(t);
  const secure = await startTlsServer(t, pki.privateCa, 'localhost');
  const plain = await startUpstream(t);
  const corp = await startCorporateProxy(t);
  const proxyUrl = `http://127.0.0.1:${corp.port}`;
  const dead = 'http://127.0.0.1:9';
  const dsn = makeDsn({ name: 'a', trustStore: pki.privateCaFile });
  const secureUrl = `https://localhost:${secure.port}/`;
  const cases: { name: string; env: NodeJS.ProcessEnv; url: string; proxied: boolean }[] = [
    {
      name: 'HTTP_PROXY for http',
      env: { HTTP_PROXY: proxyUrl },
      url: `${plain.origin}/`,
      proxied: true,
    },
    {
      name: 'http_proxy for http',
      env: { http_proxy: proxyUrl },
      url: `${plain.origin}/`,
      proxied: true,
    },
    {
      name: 'http_proxy before HTTP_PROXY',
      env: { http_proxy: proxyUrl, HTTP_PROXY: dead },
      url: `${plain.origin}/`,
      proxied: true,
    },
    {
      name: 'HTTPS_PROXY for https',
      env: { HTTPS_PROXY: proxyUrl },
      url: secureUrl,
      proxied: true,
    },
    {
      name: 'https_proxy before HTTPS_PROXY',
      env: { https_proxy: proxyUrl, HTTPS_PROXY: dead },
      url: secureUrl,
      proxied: true,
    },
    {
      name: 'NO_PROXY bypasses',
      env: { HTTPS_PROXY: dead, HTTP_PROXY: dead, NO_PROXY: 'localhost,127.0.0.1' },
      url: secureUrl,
      proxied: false,
    },
    {
      name: 'no_proxy bypasses',
      env: { HTTP_PROXY: dead, no_proxy: '127.0.0.1' },
      url: `${plain.origin}/`,
      proxied: false,
    },
    { name: 'no proxy variables: direct', env: {}, url: secureUrl, proxied: false },
  ];
  for (const purpose of PURPOSES) {
    for (const c of cases) {
      const before = corp.tunnels.length;
      const d = dispatcherFor(t, dsn, { purpose, env: c.env });
      t.equal(await outcome(d, c.url), 'ok', `${purpose}: ${c.name}`);
      t.equal(corp.tunnels.length - before, c.proxied ? 1 : 0, `${purpose}: ${c.name}: proxied?`);
    }
  }
});

t.test('credentials in an environment proxy URL reach the proxy, for both purposes', async (t) => {
  const plain = await startUpstream(t);
  const corp = await startCorporateProxy(t, basic('corp user', 'p@ss:word'));
  const url = `http://corp%20user:p%40ss%3Aword@127.0.0.1:${corp.port}`;
  for (const purpose of PURPOSES) {
    const d = dispatcherFor(t, makeDsn({ name: 'a' }), { purpose, env: { HTTP_PROXY: url } });
    t.equal(await outcome(d, `${plain.origin}/`), 'ok', purpose);
  }
  t.same(
    corp.tunnels.map((tunnel) => tunnel.auth),
    [basic('corp user', 'p@ss:word'), basic('corp user', 'p@ss:word')],
  );
});

t.test('an environment proxy pointing back at tokenshim itself is ignored', async (t) => {
  const plain = await startUpstream(t);
  const corp = await startCorporateProxy(t);
  for (const purpose of PURPOSES) {
    const self = dispatcherFor(t, makeDsn({ name: 'a' }), {
      purpose,
      env: { HTTP_PROXY: `http://localhost:${corp.port}` },
      selfPort: corp.port,
    });
    t.equal(await outcome(self, `${plain.origin}/`), 'ok', purpose);
    t.equal(corp.tunnels.length, 0, `${purpose}: went direct`);
  }
});

t.test('the purpose picks the timeouts and nothing else', async (t) => {
  const dsn = makeDsn({
    connectTimeoutSeconds: 7,
    headersTimeoutSeconds: 11,
    bodyTimeoutSeconds: 13,
  });
  t.same(dsnTimeouts(dsn, 'upstream'), { connectMs: 7000, headersMs: 11_000, bodyMs: 13_000 });
  t.same(
    dsnTimeouts(dsn, 'token-endpoint'),
    { connectMs: 7000, headersMs: 11_000, bodyMs: 11_000, keepAliveMs: 30_000 },
    'a token response gets HeadersTimeout for its body, not the download-sized BodyTimeout',
  );

  t.test(
    'a stalled token body fails at HeadersTimeout; an upstream body may take longer',
    async (t) => {
      const pki = await makePki(t);
      const stalling = await startTlsServer(t, pki.privateCa, 'localhost', { holdBody: true });
      const url = `https://localhost:${stalling.port}/`;
      const slowBody = makeDsn({
        name: 'a',
        trustStore: pki.privateCaFile,
        headersTimeoutSeconds: 1,
        bodyTimeoutSeconds: 600,
      });
      const upstream = outcome(dispatcherFor(t, slowBody, { purpose: 'upstream', env: {} }), url);
      const token = await outcome(
        dispatcherFor(t, slowBody, { purpose: 'token-endpoint', env: {} }),
        url,
      );
      t.equal(token, 'UND_ERR_BODY_TIMEOUT');
      stalling.release();
      t.equal(await upstream, 'ok', 'the upstream request was still waiting for its body');
    },
  );
});

t.test(
  'TrustStore files: each unusable one is a config error naming the DSN and the fix',
  async (t) => {
    const pki = await makePki(t);
    const file = (name: string, content: string | Buffer): string => {
      const path = join(pki.dir, name);
      writeFileSync(path, content);
      return path;
    };
    const jks = file('cacerts.jks', Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
    const [head = '', tail = ''] = pki.privateCa.certificatePem.split('\n', 2);
    const damaged = file(
      'damaged.pem',
      `${pki.publicCa.certificatePem}${head}\n${tail.slice(0, 20)}xx\n-----END CERTIFICATE-----\n`,
    );
    const cases: [string, string, RegExp][] = [
      [
        'missing',
        join(pki.dir, 'missing.pem'),
        /^DSN "x": TrustStore .*missing\.pem cannot be read \(ENOENT\)\. Point TrustStore at a readable PEM file/,
      ],
      [
        'a Java keystore',
        jks,
        /^DSN "x": TrustStore .*cacerts\.jks holds no PEM certificate.*keytool -exportcert -rfc/,
      ],
      [
        'a damaged PEM',
        damaged,
        /^DSN "x": TrustStore .*damaged\.pem: certificate 2 of 2 is damaged/,
      ],
    ];
    for (const purpose of PURPOSES) {
      for (const [what, trustStore, message] of cases) {
        t.throws(
          () => createDsnDispatcher(makeDsn({ name: 'x', trustStore }), { purpose, env: {} }),
          { name: 'ConfigError', code: 'TOKENSHIM_CONFIG', message },
          `${purpose}: ${what}`,
        );
      }
    }
  },
);

t.test('TrustStore accepts a PEM bundle with other blocks, and a DER .cer', async (t) => {
  const pki = await makePki(t);
  const upstream = await startTlsServer(t, pki.privateCa, 'localhost');
  const url = `https://localhost:${upstream.port}/`;
  const { X509Certificate } = await import('node:crypto');
  const der = join(pki.dir, 'private-ca.cer');
  writeFileSync(der, new X509Certificate(pki.privateCa.certificatePem).raw);
  const bundle = join(pki.dir, 'bundle.pem');
  writeFileSync(
    bundle,
    `# exported by hand\n${pki.publicCa.certificatePem}\n${pki.privateCa.certificatePem}`,
  );
  for (const purpose of PURPOSES) {
    for (const trustStore of [der, bundle]) {
      const d = dispatcherFor(t, makeDsn({ name: 'a', trustStore }), { purpose, env: {} });
      t.equal(await outcome(d, url), 'ok', `${purpose}: ${trustStore}`);
    }
  }
});

t.test('NODE_EXTRA_CA_CERTS stays trusted next to a TrustStore', async (t) => {
  const pki = await makePki(t);
  const upstream = await startTlsServer(t, pki.privateCa, 'localhost');
  const inspected = await startTlsServer(t, pki.publicCa, '127.0.0.1');
  const extra = join(pki.dir, 'corporate-ca.pem');
  writeFileSync(extra, pki.publicCa.certificatePem);
  for (const purpose of PURPOSES) {
    const d = dispatcherFor(t, makeDsn({ name: 'a', trustStore: pki.privateCaFile }), {
      purpose,
      env: { NODE_EXTRA_CA_CERTS: extra },
    });
    t.equal(
      await outcome(d, `https://localhost:${upstream.port}/`),
      'ok',
      `${purpose}: TrustStore`,
    );
    t.equal(
      await outcome(d, `https://127.0.0.1:${inspected.port}/`),
      'ok',
      `${purpose}: the NODE_EXTRA_CA_CERTS CA`,
    );
  }
});
