import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { FakeClock } from '../../lib/clock.js';
import { LOCAL_CA_DEFAULTS, LocalCa } from '../../lib/tls/local-ca.js';

const DAY_MS = 24 * 60 * 60 * 1000;

t.test(
  'create: a self-signed CA certificate, limited to signing leaves, valid ten years',
  async (t) => {
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const { ca, keyPem } = await LocalCa.create({ clock, commonName: 'tokenshim test CA' });
    const cert = new X509Certificate(ca.certificatePem);
    t.equal(cert.ca, true);
    t.ok(cert.verify(cert.publicKey), 'self-signed');
    t.equal(cert.subject, 'CN=tokenshim test CA\nO=tokenshim');
    t.equal(
      Date.parse(cert.validTo),
      Date.UTC(2026, 5, 1) + LOCAL_CA_DEFAULTS.caValidityDays * DAY_MS,
    );
    t.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    t.match(keyPem, /^-----BEGIN PRIVATE KEY-----/);
    t.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem)));
    t.equal(await ca.fingerprint(), cert.fingerprint256, 'the SHA-256 node computes');
    t.equal(await ca.fingerprint('SHA-1'), cert.fingerprint);
  },
);

t.test(
  'issueLeaf: signed by the CA, for the host (DNS or IP), not a CA, server auth only',
  async (t) => {
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const { ca } = await LocalCa.create({ clock });
    const caCert = new X509Certificate(ca.certificatePem);

    const dns = new X509Certificate((await ca.issueLeaf('api.example.com')).certificatePem);
    t.ok(dns.verify(caCert.publicKey), 'signed by the CA key');
    t.ok(dns.checkIssued(caCert));
    t.equal(dns.ca, false);
    t.equal(dns.checkHost('api.example.com'), 'api.example.com');
    t.equal(dns.checkHost('other.example.com'), undefined);
    t.equal(dns.subjectAltName, 'DNS:api.example.com');
    t.same(dns.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extended key usage: serverAuth');
    t.equal(Date.parse(dns.validFrom), clock.now() - LOCAL_CA_DEFAULTS.backdateMs);
    t.equal(Date.parse(dns.validTo), clock.now() + LOCAL_CA_DEFAULTS.leafValidityDays * DAY_MS);

    const ip = new X509Certificate((await ca.issueLeaf('127.0.0.1')).certificatePem);
    t.equal(ip.checkIP('127.0.0.1'), '127.0.0.1');
    const v6 = new X509Certificate((await ca.issueLeaf('::1')).certificatePem);
    t.equal(v6.checkIP('::1'), '::1');
    t.equal(ca.leavesIssued, 3);
  },
);

t.test('issueLeaf: all leaves share one key, made once', async (t) => {
  const { ca } = await LocalCa.create();
  const a = await ca.issueLeaf('a.example');
  const b = await ca.issueLeaf('b.example');
  t.equal(a.keyPem, b.keyPem);
  t.not(a.certificatePem, b.certificatePem);
  t.ok(
    new X509Certificate(a.certificatePem).serialNumber !==
      new X509Certificate(b.certificatePem).serialNumber,
  );
  const other = (await LocalCa.create()).ca;
  t.not((await other.issueLeaf('a.example')).keyPem, a.keyPem, 'another CA, another leaf key');
});

t.test('issueLeaf: a leaf never outlives its CA', async (t) => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const { ca } = await LocalCa.create({ clock });
  clock.advance((LOCAL_CA_DEFAULTS.caValidityDays - 30) * DAY_MS);
  const leaf = await ca.issueLeaf('late.example');
  t.equal(leaf.notAfter.getTime(), ca.notAfter.getTime());
  t.equal(Date.parse(new X509Certificate(leaf.certificatePem).validTo), ca.notAfter.getTime());
});

t.test('issueLeaf: a host longer than a CN may be is named in the SAN only', async (t) => {
  const { ca } = await LocalCa.create();
  const host = `${'a'.repeat(60)}.example.com`;
  const leaf = new X509Certificate((await ca.issueLeaf(host)).certificatePem);
  t.equal(leaf.checkHost(host), host);
  t.notMatch(leaf.subject, /CN=/);
});

t.test('fromPem: loads a CA that signs leaves its certificate verifies', async (t) => {
  const { ca, keyPem } = await LocalCa.create();
  const loaded = await LocalCa.fromPem(ca.certificatePem, keyPem);
  const leaf = new X509Certificate((await loaded.issueLeaf('x.example')).certificatePem);
  t.ok(leaf.verify(new X509Certificate(ca.certificatePem).publicKey));
  t.equal(loaded.subject, ca.subject);
});

t.test(
  'fromPem: every unusable CA is a clear TOKENSHIM_CA_INVALID naming the file and the fix',
  async (t) => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const { ca, keyPem } = await LocalCa.create({ clock });
    const stranger = await LocalCa.create({ clock });
    const leaf = await ca.issueLeaf('leaf.example');
    const source = { certificatePath: '/ca/tokenshim-ca.crt', keyPath: '/ca/tokenshim-ca.key' };
    const cases: [string, () => Promise<LocalCa>, RegExp][] = [
      [
        'not PEM',
        () => LocalCa.fromPem('hello', keyPem, { source }),
        /\/ca\/tokenshim-ca\.crt is not a PEM certificate/,
      ],
      [
        'a leaf, not a CA',
        () => LocalCa.fromPem(leaf.certificatePem, leaf.keyPem, { source }),
        /is not a CA certificate/,
      ],
      [
        'another CA key',
        () => LocalCa.fromPem(ca.certificatePem, stranger.keyPem, { source }),
        /\/ca\/tokenshim-ca\.key is not the ECDSA P-256 private key of \/ca\/tokenshim-ca\.crt/,
      ],
      [
        'key not PEM',
        () => LocalCa.fromPem(ca.certificatePem, 'nope', { source }),
        /tokenshim-ca\.key is not the ECDSA/,
      ],
      [
        'expired',
        () =>
          LocalCa.fromPem(ca.certificatePem, keyPem, {
            source,
            clock: new FakeClock(Date.UTC(2040, 0, 1)),
          }),
        /is valid only from .* to /,
      ],
    ];
    for (const [name, load, message] of cases) {
      const err = await load().then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
      t.equal(err?.code, 'TOKENSHIM_CA_INVALID', name);
      t.match(err?.message, message, name);
      t.match(err?.message, /tokenshim ca init --force/, name);
      t.notMatch(err?.message, /PRIVATE KEY/, `${name}: no key material in the message`);
    }
  },
);
