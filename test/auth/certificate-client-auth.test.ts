/**
 * RFC 8705 client authentication against a real authorization server (oidc-provider with its
 * mTLS feature): the TLS client certificate is the client's credential, client_id names it, and
 * no secret is sent. The certificate travels on the DSN's one transport (lib/net).
 */
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../lib/auth/stores/memory-store.js';
import { FakeClock } from '../../lib/clock.js';
import type { ClientCertificateFiles, DsnConfig } from '../../lib/config/dsn.js';
import type { TokenshimError } from '../../lib/errors.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startOAuthServer, type OAuthServer } from '../fixtures/oauth-server.js';
import {
  CLIENT_SUBJECT,
  makeClientCertificates,
  certificatesFor,
  type ClientCertificates,
} from '../fixtures/test-certificates.js';

async function credential(t: Test, dsn: DsnConfig) {
  const provider = createCredentialProvider(dsn, {
    store: new MemoryTokenStore(),
    clock: new FakeClock(Date.now()),
  });
  t.teardown(() => provider.close());
  return provider.credential();
}

async function mtlsServer(t: Test, client: ClientCertificates): Promise<OAuthServer> {
  const server = await startOAuthServer({
    clientCaPem: client.caPem,
    clients: [
      {
        clientId: 'pki-client',
        clientSecret: '',
        auth: 'tls_client_auth',
        tlsClientAuthSubjectDn: CLIENT_SUBJECT,
        grantTypes: ['client_credentials'],
      },
      {
        clientId: 'self-signed-client',
        clientSecret: '',
        auth: 'self_signed_tls_client_auth',
        selfSignedCertificate: client.selfSignedDer,
        grantTypes: ['client_credentials'],
      },
    ],
  });
  t.teardown(() => server.close());
  return server;
}

function dsnFor(
  server: OAuthServer,
  clientId: string,
  mode: 'tls_client_auth' | 'self_signed_tls_client_auth',
  clientCertificate: ClientCertificateFiles,
): DsnConfig {
  return makeDsn({
    name: 'mtls',
    method: 53,
    clientId,
    clientSecret: undefined,
    clientCredentialsMode: mode,
    clientCertificate,
    scope: 'api',
    trustStore: server.caFile!,
    tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
  });
}

t.test('tls_client_auth (RFC 8705 2.1): a certificate from the CA the server trusts', async (t) => {
  const client = makeClientCertificates();
  t.teardown(() => client.dispose());
  const server = await mtlsServer(t, client);
  const dsn = dsnFor(server, 'pki-client', 'tls_client_auth', { file: client.combinedFile });
  t.equal(dsn.clientSecret, undefined, 'no secret configured');
  const cred = await credential(t, dsn);
  t.ok(cred.accessToken);
  t.match(server.grants.at(-1), {
    grantType: 'client_credentials',
    clientId: 'pki-client',
    clientAuthMethod: 'tls_client_auth',
    error: undefined,
  });

  t.test('a certificate for the same subject from a CA the server does not trust', async (t) => {
    const err = (await credential(
      t,
      dsnFor(server, 'pki-client', 'tls_client_auth', { file: client.strangerFile }),
    ).catch((e: unknown) => e)) as TokenshimError;
    t.equal(err.code, 'TOKENSHIM_NEEDS_LOGIN', 'invalid_client is final');
    t.match(err.message, /or the ClientCertificate registered for the client/);
    t.match(server.grants.at(-1), { error: 'invalid_client' });
  });
});

t.test(
  'self_signed_tls_client_auth (RFC 8705 2.2): the certificate registered with the client',
  async (t) => {
    const client = makeClientCertificates();
    t.teardown(() => client.dispose());
    const server = await mtlsServer(t, client);
    const cred = await credential(
      t,
      dsnFor(server, 'self-signed-client', 'self_signed_tls_client_auth', {
        file: client.selfSignedFile,
      }),
    );
    t.ok(cred.accessToken);
    t.match(server.grants.at(-1), {
      clientId: 'self-signed-client',
      clientAuthMethod: 'self_signed_tls_client_auth',
      error: undefined,
    });

    const err = (await credential(
      t,
      dsnFor(server, 'self-signed-client', 'self_signed_tls_client_auth', {
        file: client.combinedFile,
      }),
    ).catch((e: unknown) => e)) as TokenshimError;
    t.equal(err.code, 'TOKENSHIM_NEEDS_LOGIN', 'another certificate than the registered one');
    t.match(server.grants.at(-1), { error: 'invalid_client' });
  },
);

t.test(
  'a token endpoint that refuses the handshake without a certificate: the error names ClientCertificate',
  async (t) => {
    const { client, server: certs } = certificatesFor(t);
    // TLS 1.2 sends the refusal as an alert the client can read (1.3 often just closes)
    const https = createHttpsServer(
      {
        key: certs.serverKey,
        cert: certs.serverCert,
        ca: client.caPem,
        requestCert: true,
        rejectUnauthorized: true,
        maxVersion: 'TLSv1.2',
      },
      (_req, res) => res.end('{}'),
    );
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    t.teardown(() => https.close());
    const url = `https://127.0.0.1:${(https.address() as AddressInfo).port}/token`;
    const err = (await credential(
      t,
      makeDsn({
        name: 'mtls',
        method: 53,
        clientId: 'c',
        clientSecret: 's',
        trustStore: certs.caFile,
        tokenEndpoint: { method: 'POST', url: new URL(url) },
      }),
    ).catch((e: unknown) => e)) as Error;
    t.match(
      err.message,
      /refused the TLS handshake: it may require a client certificate \(ClientCertificate\)/,
    );
  },
);
