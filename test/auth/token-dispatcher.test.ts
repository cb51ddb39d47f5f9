import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../lib/auth/stores/memory-store.js';
import { createTokenDispatcher } from '../../lib/auth/token-dispatcher.js';
import { FakeClock } from '../../lib/clock.js';
import type { DsnConfig } from '../../lib/config/dsn.js';
import { ConfigError, TokenUnavailableError } from '../../lib/errors.js';
import { startCorporateProxy } from '../fixtures/corporate-proxy.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { CLIENTS, startOAuthServer } from '../fixtures/oauth-server.js';

t.test('https token endpoint: TrustStore and ValidateServerCertificate', async (t) => {
  const server = await startOAuthServer({ tls: true });
  t.teardown(() => server.close());
  t.match(server.tokenEndpoint, /^https:/);
  const dsn = (o: Partial<Omit<DsnConfig, 'method'>>): DsnConfig =>
    makeDsn({
      name: 'tls',
      method: 53,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
      ...o,
    });
  const credential = async (d: DsnConfig) => {
    const p = createCredentialProvider(d, {
      store: new MemoryTokenStore(),
      clock: new FakeClock(Date.now()),
    });
    t.teardown(() => p.close());
    return p.credential();
  };

  t.test('the test CA in TrustStore: trusted', async (t) => {
    t.ok((await credential(dsn({ trustStore: server.caFile! }))).accessToken);
  });

  t.test('without it: refused, and the error says which option fixes it', async (t) => {
    const err = await credential(dsn({})).catch((e: unknown) => e);
    t.type(err, TokenUnavailableError);
    t.match(
      (err as Error).message,
      /certificate is not trusted: put the CA that signed it in TrustStore/,
    );
  });

  t.test('ValidateServerCertificate=0: accepted without verification', async (t) => {
    t.ok((await credential(dsn({ validateServerCertificate: false }))).accessToken);
  });

  t.test('HostNameInCertificate must match the certificate', async (t) => {
    const err = await credential(
      dsn({ trustStore: server.caFile!, hostNameInCertificate: 'other.example' }),
    ).catch((e: unknown) => e);
    t.type(err, TokenUnavailableError);
    t.ok(
      (await credential(dsn({ trustStore: server.caFile!, hostNameInCertificate: 'localhost' })))
        .accessToken,
    );
  });
});

t.test('unusable TrustStore files are config errors naming the option', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-truststore-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const notPem = join(dir, 'cacerts.jks');
  writeFileSync(notPem, Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
  t.throws(
    () => createTokenDispatcher(makeDsn({ name: 'x', trustStore: join(dir, 'missing.pem') })),
    {
      constructor: ConfigError,
      message: /DSN "x": TrustStore .*missing\.pem cannot be read \(ENOENT\)/,
    },
  );
  t.throws(() => createTokenDispatcher(makeDsn({ name: 'x', trustStore: notPem })), {
    constructor: ConfigError,
    message: /holds no PEM certificate.*keytool -exportcert -rfc/,
  });
});

t.test(
  'ProxyHost/ProxyPort/ProxyUser: the token request goes through the outbound proxy',
  async (t) => {
    const server = await startOAuthServer();
    t.teardown(() => server.close());
    const proxy = await startCorporateProxy(t);
    const d = makeDsn({
      name: 'proxied',
      method: 53,
      clientId: CLIENTS.post.clientId,
      clientSecret: CLIENTS.post.clientSecret,
      clientCredentialsMode: 3,
      tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
      outboundProxy: {
        host: '127.0.0.1',
        port: proxy.port,
        user: 'pu',
        password: 'pp',
      },
    });
    const p = createCredentialProvider(d, {
      store: new MemoryTokenStore(),
      clock: new FakeClock(Date.now()),
    });
    t.teardown(() => p.close());
    t.ok((await p.credential()).accessToken);
    t.same(proxy.tunnels, [
      {
        target: new URL(server.tokenEndpoint).host,
        auth: `Basic ${Buffer.from('pu:pp').toString('base64')}`,
      },
    ]);
  },
);
