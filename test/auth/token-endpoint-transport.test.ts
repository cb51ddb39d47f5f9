/**
 * The token endpoint over the DSN's transport, end to end (provider -> real OAuth server): what a
 * user sees when TLS or the outbound proxy is wrong. Every TLS and proxy case of the transport
 * itself runs for both purposes in test/net/dsn-dispatcher.test.ts.
 */
import t, { type Test } from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../lib/auth/stores/memory-store.js';
import { FakeClock } from '../../lib/clock.js';
import type { DsnConfig } from '../../lib/config/dsn.js';
import { TokenUnavailableError } from '../../lib/errors.js';
import { startCorporateProxy } from '../fixtures/corporate-proxy.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { CLIENTS, startOAuthServer } from '../fixtures/oauth-server.js';

async function credential(t: Test, d: DsnConfig) {
  const p = createCredentialProvider(d, {
    store: new MemoryTokenStore(),
    clock: new FakeClock(Date.now()),
  });
  t.teardown(() => p.close());
  return p.credential();
}

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

  t.test('the test CA in TrustStore: trusted', async (t) => {
    t.ok((await credential(t, dsn({ trustStore: server.caFile! }))).accessToken);
  });

  t.test('without it: refused, and the error says which option fixes it', async (t) => {
    const err = await credential(t, dsn({})).catch((e: unknown) => e);
    t.type(err, TokenUnavailableError);
    t.match(
      (err as Error).message,
      /certificate is not trusted: put the CA that signed it in TrustStore/,
    );
  });

  t.test('ValidateServerCertificate=0: accepted without verification', async (t) => {
    t.ok((await credential(t, dsn({ validateServerCertificate: false }))).accessToken);
  });
});

t.test(
  'ProxyHost/ProxyPort/ProxyUser: the token request goes through the outbound proxy',
  async (t) => {
    const server = await startOAuthServer();
    t.teardown(() => server.close());
    const auth = `Basic ${Buffer.from('pu:pp').toString('base64')}`;
    const proxy = await startCorporateProxy(t, auth);
    const d = (password: string): DsnConfig =>
      makeDsn({
        name: 'proxied',
        method: 53,
        clientId: CLIENTS.post.clientId,
        clientSecret: CLIENTS.post.clientSecret,
        clientCredentialsMode: 3,
        tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
        outboundProxy: { host: '127.0.0.1', port: proxy.port, user: 'pu', password },
      });
    t.ok((await credential(t, d('pp'))).accessToken);
    t.same(proxy.tunnels, [{ target: new URL(server.tokenEndpoint).host, auth }]);

    t.test('a proxy refusing the credentials: the error names the proxy options', async (t) => {
      const err = await credential(t, d('wrong-proxy-password')).catch((e: unknown) => e);
      t.type(err, TokenUnavailableError);
      t.match(
        (err as Error).message,
        /outbound proxy answered 407 instead of opening a tunnel: check ProxyHost, ProxyPort, ProxyUser and ProxyPassword/,
      );
      t.notMatch((err as Error).message, 'wrong-proxy-password');
    });
  },
);
