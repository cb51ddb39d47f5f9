import { execFileSync } from 'node:child_process';
import { createPublicKey, sign, verify } from 'node:crypto';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadPkcs12Key } from '../../../lib/auth/grants/pkcs12-key.js';
import { tempDir } from '../../fixtures/temp-config.js';

/** A key and self-signed certificate made by openssl, exported as PKCS#12 by openssl. */
function makeP12(
  t: Test,
  opts: { key: 'rsa' | 'ec'; alias?: string; password: string; legacy?: boolean },
): string {
  const { dir } = tempDir(t);
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const p12 = join(dir, 'cert.p12');
  const newkey =
    opts.key === 'rsa'
      ? ['-newkey', 'rsa:2048']
      : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...newkey,
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=tokenshim-test',
      '-days',
      '1',
    ],
    { stdio: 'pipe' },
  );
  execFileSync(
    'openssl',
    [
      'pkcs12',
      '-export',
      '-inkey',
      key,
      '-in',
      cert,
      '-out',
      p12,
      '-passout',
      `pass:${opts.password}`,
      ...(opts.alias ? ['-name', opts.alias] : []),
      // 3DES for keys and certificates, as older Windows and Java exports write them
      ...(opts.legacy
        ? ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']
        : []),
    ],
    { stdio: 'pipe' },
  );
  return p12;
}

const signsAndVerifies = (key: Awaited<ReturnType<typeof loadPkcs12Key>>): boolean => {
  const data = Buffer.from('assertion');
  const signature = sign('sha256', data, key.privateKey);
  return verify('sha256', data, key.certificate!.publicKey, signature);
};

t.test(
  'an RSA key and its certificate from an openssl PKCS#12 export (AES, OpenSSL 3 default)',
  async (t) => {
    const file = makeP12(t, { key: 'rsa', alias: 'jwt-signer', password: 'p12-pass' });
    const key = await loadPkcs12Key({ dsn: 'sf', file, password: 'p12-pass', alias: 'JWT-Signer' });
    t.equal(key.privateKey.asymmetricKeyType, 'rsa');
    t.equal(
      key.alias,
      'jwt-signer',
      'aliases match case-insensitively (Java keytool lower-cases them)',
    );
    t.match(key.certificate?.subject, /CN=tokenshim-test/);
    t.ok(signsAndVerifies(key), "the certificate is the key's own");
    t.equal(
      createPublicKey(key.privateKey).export({ format: 'pem', type: 'spki' }),
      key.certificate?.publicKey.export({ format: 'pem', type: 'spki' }),
    );
  },
);

t.test('legacy 3DES exports and EC keys', async (t) => {
  const legacy = makeP12(t, { key: 'rsa', password: 'old', legacy: true });
  const one = await loadPkcs12Key({ dsn: 'sf', file: legacy, password: 'old' });
  t.ok(signsAndVerifies(one), 'one key: no alias needed');
  t.equal(one.alias, undefined);
  const ec = makeP12(t, { key: 'ec', alias: 'ec-key', password: 'x' });
  const eckey = await loadPkcs12Key({ dsn: 'sf', file: ec, password: 'x' });
  t.equal(eckey.privateKey.asymmetricKeyType, 'ec');
  t.ok(signsAndVerifies(eckey), 'EC keys come through forge as PKCS#8 for Node to read');
});

t.test(
  'each bad input is a config error naming the DSN, the file and the fix, never the password',
  async (t) => {
    const file = makeP12(t, { key: 'rsa', alias: 'signer', password: 'right-password-1' });
    const attempts: [Parameters<typeof loadPkcs12Key>[0], RegExp][] = [
      [
        { dsn: 'sf', file, password: 'wrong-password-2' },
        /DSN "sf": JWTCertStore .*cert\.p12 cannot be opened with JWTCertPassword/,
      ],
      [
        { dsn: 'sf', file },
        /cannot be opened with JWTCertPassword \(wrong password, or none given\)/,
      ],
      [
        { dsn: 'sf', file, password: 'right-password-1', alias: 'other' },
        /has no key with the alias "other" \(it has: signer\)\. Set JWTCertAlias/,
      ],
      [{ dsn: 'sf', file: join(file, '..', 'nope.p12') }, /nope\.p12 cannot be read \(ENOENT\)/],
    ];
    for (const [opts, message] of attempts) {
      const err = (await loadPkcs12Key(opts).then(
        () => undefined,
        (e: unknown) => e,
      )) as Error & { code?: string };
      t.equal(err?.code, 'TOKENSHIM_CONFIG');
      t.match(err?.message, message);
      t.notMatch(err?.message, /right-password-1|wrong-password-2/);
    }
    const { write } = tempDir(t);
    const pem = write('key.pem', '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n');
    await t.rejects(loadPkcs12Key({ dsn: 'sf', file: pem, password: 'x' }), {
      message: /is not a PKCS#12 \(\.p12\/\.pfx\) file.*JWTPrivateKeyFile/,
    });
  },
);
