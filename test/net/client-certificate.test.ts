import t from 'tap';
import { request, type Dispatcher } from 'undici';
import type { ClientCertificateFiles } from '../../lib/config/dsn.js';
import { readClientCertificate } from '../../lib/net/client-certificate.js';
import { createDsnDispatcher, type DsnDispatcherPurpose } from '../../lib/net/dsn-dispatcher.js';
import { startCorporateProxy } from '../fixtures/corporate-proxy.js';
import { startMtlsServer } from '../fixtures/mtls-server.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import {
  CLIENT_CERT_PASSWORD,
  CLIENT_SUBJECT,
  certificatesFor,
} from '../fixtures/test-certificates.js';
import { tempDir } from '../fixtures/temp-config.js';

const PURPOSES: readonly DsnDispatcherPurpose[] = ['token-endpoint', 'upstream'];

/** GETs `url`: the client certificate's CN the server saw, or the failure's innermost code. */
async function outcome(dispatcher: Dispatcher, url: string): Promise<string> {
  try {
    const res = await request(url, { dispatcher });
    const body = (await res.body.json()) as { client: string | null };
    return `client ${body.client}`;
  } catch (e) {
    let err = e as { code?: string; cause?: unknown; message?: string };
    while (err.cause !== undefined && (err.cause as { code?: string }).code !== undefined) {
      err = err.cause as typeof err;
    }
    return err.code ?? err.message ?? String(e);
  }
}

t.test('readClientCertificate: every form a client certificate comes in', async (t) => {
  const { client } = certificatesFor(t);
  const forms: [string, ClientCertificateFiles][] = [
    ['PEM with the key in the same file', { file: client.combinedFile }],
    ['PEM certificate and PEM key', { file: client.certFile, keyFile: client.keyFile }],
    [
      'an encrypted PEM key with its password',
      { file: client.certFile, keyFile: client.encryptedKeyFile, password: CLIENT_CERT_PASSWORD },
    ],
    ['PKCS#12, OpenSSL 3 (AES)', { file: client.p12File, password: CLIENT_CERT_PASSWORD }],
    [
      'PKCS#12, 3DES as older Windows and Java export it',
      { file: client.legacyP12File, password: CLIENT_CERT_PASSWORD },
    ],
  ];
  for (const [what, files] of forms) {
    const cert = readClientCertificate('crm', files);
    t.equal(cert.subject, CLIENT_SUBJECT, what);
    t.match(cert.key, /^-----BEGIN PRIVATE KEY-----/, `${what}: the key, decrypted once`);
    t.match(cert.cert, /^-----BEGIN CERTIFICATE-----/, what);
  }
  const p12 = readClientCertificate('crm', {
    file: client.p12File,
    password: CLIENT_CERT_PASSWORD,
  });
  t.equal(
    p12.cert.match(/BEGIN CERTIFICATE/g)?.length,
    2,
    'a PKCS#12 chain goes along, the client certificate first',
  );
});

t.test('readClientCertificate: each mistake stops with the option and the fix', async (t) => {
  const { client } = certificatesFor(t);
  const { write, dir } = tempDir(t);
  const cases: [string, ClientCertificateFiles, RegExp][] = [
    [
      'a file that is not there',
      { file: `${dir}/missing.pem` },
      /DSN "crm": ClientCertificate .*missing\.pem cannot be read \(ENOENT\)\. Point ClientCertificate at a file/,
    ],
    [
      'a key file that is not there',
      { file: client.certFile, keyFile: `${dir}/missing.key` },
      /ClientCertificateKey .*missing\.key cannot be read \(ENOENT\)/,
    ],
    [
      'a certificate without its key',
      { file: client.certFile },
      /ClientCertificate .* holds no private key\. Set ClientCertificateKey to the key's PEM file/,
    ],
    [
      'a key file that holds a certificate',
      { file: client.certFile, keyFile: client.certFile },
      /ClientCertificateKey .* holds no PEM private key/,
    ],
    [
      'a PEM file without a certificate',
      { file: client.keyFile },
      /holds no certificate \("-----BEGIN CERTIFICATE-----"\)/,
    ],
    [
      'an encrypted key without a password',
      { file: client.certFile, keyFile: client.encryptedKeyFile },
      /the private key in ClientCertificateKey .* is encrypted\. Set ClientCertificatePassword/,
    ],
    [
      'an encrypted key with the wrong password',
      { file: client.certFile, keyFile: client.encryptedKeyFile, password: 'wrong-password' },
      /cannot be decrypted with ClientCertificatePassword/,
    ],
    [
      "another certificate's key",
      { file: client.certFile, keyFile: client.otherKeyFile },
      /the private key in ClientCertificateKey .* does not belong to the certificate in ClientCertificate/,
    ],
    [
      'PKCS#12 with the wrong password',
      { file: client.p12File, password: 'wrong-password' },
      /ClientCertificate .*client\.p12 cannot be opened with ClientCertificatePassword \(wrong password, or none given\)/,
    ],
    [
      'PKCS#12 with a key file beside it',
      { file: client.p12File, keyFile: client.keyFile, password: CLIENT_CERT_PASSWORD },
      /is a PKCS#12 file, which holds its own key: remove ClientCertificateKey/,
    ],
    [
      'neither PEM nor PKCS#12',
      { file: write('cert.der', Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])) },
      /is neither PEM \("-----BEGIN CERTIFICATE-----"\) nor PKCS#12 \(\.p12\/\.pfx\)/,
    ],
    [
      'a damaged PEM certificate',
      { file: write('bad.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n') },
      /certificate 1 of 1 is damaged and cannot be parsed/,
    ],
  ];
  for (const [what, files, message] of cases) {
    let error: Error | undefined;
    try {
      readClientCertificate('crm', files);
    } catch (e) {
      error = e as Error;
    }
    t.match(error, { code: 'TOKENSHIM_CONFIG', message }, what);
    t.notMatch(error?.message ?? '', 'wrong-password', `${what}: no password in the message`);
    t.notMatch(error?.message ?? '', CLIENT_CERT_PASSWORD, `${what}: no password in the message`);
  }
});

t.test(
  'ClientCertificate is presented by the one transport, to the token endpoint and to the upstream alike',
  async (t) => {
    const { client, server } = certificatesFor(t);
    const mtls = await startMtlsServer(t, server, client.caPem);
    for (const purpose of PURPOSES) {
      t.test(purpose, async (t) => {
        const dispatcher = (clientCertificate?: ClientCertificateFiles): Dispatcher => {
          const d = createDsnDispatcher(
            makeDsn({
              name: 'crm',
              upstream: new URL(mtls.url),
              trustStore: server.caFile,
              ...(clientCertificate ? { clientCertificate } : {}),
            }),
            { purpose, env: {} },
          );
          t.teardown(() => d.close());
          return d;
        };
        t.equal(
          await outcome(dispatcher({ file: client.combinedFile }), mtls.url),
          'client tokenshim-client',
        );
        t.equal(
          await outcome(
            dispatcher({ file: client.legacyP12File, password: CLIENT_CERT_PASSWORD }),
            mtls.url,
          ),
          'client tokenshim-client',
          'from a PKCS#12 file',
        );
        t.not(
          await outcome(dispatcher(), mtls.url),
          'client tokenshim-client',
          'without ClientCertificate the server refuses the handshake',
        );
        t.not(
          await outcome(dispatcher({ file: client.strangerFile }), mtls.url),
          'client tokenshim-client',
          'a certificate from a CA the server does not trust is refused too',
        );
      });
    }
  },
);

t.test(
  'through ProxyHost the certificate reaches the server behind the tunnel, and TrustStore still applies',
  async (t) => {
    const { client, server } = certificatesFor(t);
    const mtls = await startMtlsServer(t, server, client.caPem);
    const proxy = await startCorporateProxy(t);
    const d = createDsnDispatcher(
      makeDsn({
        name: 'crm',
        upstream: new URL(mtls.url),
        trustStore: server.caFile,
        clientCertificate: { file: client.combinedFile },
        outboundProxy: { host: '127.0.0.1', port: proxy.port },
      }),
      { purpose: 'upstream', env: {} },
    );
    t.teardown(() => d.close());
    t.equal(await outcome(d, mtls.url), 'client tokenshim-client');
    t.equal(proxy.tunnels.length, 1, 'through the proxy');
  },
);
