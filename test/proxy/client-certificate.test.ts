/**
 * ClientCertificate through the proxy: a request on the gateway reaches an upstream that demands
 * a client certificate (RFC 8705 mutual TLS), with the certificate and the token; a certificate
 * that cannot be used stops startup naming the option.
 */
import t from 'tap';
import { request } from 'undici';
import { startServer } from '../../lib/proxy/server.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startMtlsServer } from '../fixtures/mtls-server.js';
import { StubProvider } from '../fixtures/stub-provider.js';
import { CLIENT_CERT_PASSWORD, certificatesFor } from '../fixtures/test-certificates.js';
import { startProxy } from './proxy-harness.js';

t.test('the gateway forwards to an mTLS upstream with the certificate and the token', async (t) => {
  const { client, server } = certificatesFor(t);
  const upstream = await startMtlsServer(t, server, client.caPem);
  const dsn = makeDsn({
    name: 'mtls',
    method: 54,
    clientId: 'cid',
    refreshToken: 'rt',
    upstream: new URL(upstream.url),
    trustStore: server.caFile,
    clientCertificate: { file: client.p12File, password: CLIENT_CERT_PASSWORD },
  });
  const { server: proxy, stub } = await startProxy(t, [dsn]);
  const res = await request(`${proxy.url}/mtls/orders`);
  t.equal(res.statusCode, 200);
  t.same(await res.body.json(), {
    client: 'tokenshim-client',
    authorization: `Bearer ${stub('mtls').currentToken}`,
  });
});

t.test('a client certificate that cannot be opened stops startup, naming the option', async (t) => {
  const { client } = certificatesFor(t);
  const wrong = 'not-the-p12-password';
  const started = startServer({
    port: 0,
    env: {},
    dsns: [
      makeDsn({
        name: 'mtls',
        upstream: new URL('https://127.0.0.1:9'),
        clientCertificate: { file: client.p12File, password: wrong },
      }),
    ],
    createProvider: (d) => new StubProvider(d),
  });
  const error = (await started.then(
    (s) => s.close({ drainMs: 0 }),
    (e: unknown) => e,
  )) as Error | undefined;
  t.match(
    error?.message,
    /DSN "mtls": ClientCertificate .*client\.p12 cannot be opened with ClientCertificatePassword/,
  );
  t.notMatch(error?.message, wrong);
});
