import { X509Certificate, createPrivateKey } from 'node:crypto';
import { hostname as machineName } from 'node:os';
import { isIP } from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import { CODES, LocalCaError } from '../errors.js';
import {
  SIGNING_ALGORITHM,
  generateSigningKeys,
  privateKeyFromPem,
  privateKeyToPem,
  randomSerialNumber,
  x509,
  type CryptoKey,
  type CryptoKeyPair,
} from './x509-library.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export const LOCAL_CA_DEFAULTS = Object.freeze({
  /** long, because replacing the CA means importing it again on every client machine */
  caValidityDays: 3650,
  /**
   * 397 days: the longest validity Apple and Chrome accept for a TLS server certificate
   * (CA/Browser Forum ballot SC31); shorter clients' limits do not apply to private roots.
   */
  leafValidityDays: 397,
  /** leaves start a day early so a client whose clock runs behind still accepts them */
  backdateMs: DAY_MS,
});

/** A leaf certificate for one host, ready for `tls.createSecureContext`. */
export interface IssuedLeaf {
  readonly host: string;
  readonly certificatePem: string;
  readonly keyPem: string;
  readonly notAfter: Date;
}

/**
 * tokenshim's local certificate authority: signs a leaf certificate for each host whose CONNECT
 * it intercepts (InterceptTLS=1). The CA key signs; it never leaves this object except through
 * `LocalCa.create`, which hands it once to the caller that writes the key file.
 *
 * All leaves share one ECDSA key pair, made in memory when the first leaf is issued and never
 * written anywhere (mitmproxy does the same). Each leaf is trusted only through this CA and only
 * on this machine, and every leaf's key would sit in this process's memory anyway, so separate keys
 * would cost a generation per host and protect nothing.
 */
export class LocalCa {
  readonly certificatePem: string;
  readonly #certificate: x509.X509Certificate;
  readonly #signingKey: CryptoKey;
  readonly #clock: Clock;
  #leafKeys: Promise<{ keys: CryptoKeyPair; keyPem: string }> | undefined;
  #leavesIssued = 0;

  private constructor(certificatePem: string, signingKey: CryptoKey, clock: Clock) {
    this.certificatePem = certificatePem;
    this.#certificate = new x509.X509Certificate(certificatePem);
    this.#signingKey = signingKey;
    this.#clock = clock;
  }

  /** Makes a new CA; the caller must store `keyPem` (mode 0600) and forget it. */
  static async create(
    opts: { clock?: Clock; commonName?: string } = {},
  ): Promise<{ ca: LocalCa; keyPem: string }> {
    const clock = opts.clock ?? systemClock;
    const keys = await generateSigningKeys();
    const now = clock.now();
    // CN says which machine made it, so a user who imported two can tell them apart.
    const commonName = (opts.commonName ?? `tokenshim local CA ${machineName()}`).slice(0, 64);
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerialNumber(),
      name: [{ CN: [commonName] }, { O: ['tokenshim'] }],
      notBefore: new Date(now - LOCAL_CA_DEFAULTS.backdateMs),
      notAfter: new Date(now + LOCAL_CA_DEFAULTS.caValidityDays * DAY_MS),
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        // pathLen 0: this CA signs leaves only, never another CA
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign |
            x509.KeyUsageFlags.cRLSign |
            x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const keyPem = await privateKeyToPem(keys.privateKey);
    return { ca: new LocalCa(certificate.toString('pem'), keys.privateKey, clock), keyPem };
  }

  /**
   * Loads a CA from its PEM texts, checking that the certificate is a CA certificate, still valid,
   * and that the key belongs to it. `source` names the files in error messages.
   */
  static async fromPem(
    certificatePem: string,
    keyPem: string,
    opts: { clock?: Clock; source?: { certificatePath: string; keyPath: string } } = {},
  ): Promise<LocalCa> {
    const clock = opts.clock ?? systemClock;
    const certName = opts.source?.certificatePath ?? 'the CA certificate';
    const keyName = opts.source?.keyPath ?? 'the CA key';
    const fix =
      'Run `tokenshim ca init --force` to make a new CA (and import its certificate again).';

    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(certificatePem);
    } catch (cause) {
      throw new LocalCaError(CODES.CA_INVALID, `${certName} is not a PEM certificate. ${fix}`, {
        cause,
        status: 500,
      });
    }
    if (!certificate.ca) {
      throw new LocalCaError(
        CODES.CA_INVALID,
        `${certName} is not a CA certificate (basicConstraints CA is false). ${fix}`,
        { status: 500 },
      );
    }
    const now = clock.now();
    if (Date.parse(certificate.validTo) <= now || Date.parse(certificate.validFrom) > now) {
      throw new LocalCaError(
        CODES.CA_INVALID,
        `${certName} is valid only from ${certificate.validFrom} to ${certificate.validTo}. ${fix}`,
        { status: 500 },
      );
    }
    let signingKey: CryptoKey;
    try {
      if (!certificate.checkPrivateKey(createPrivateKey(keyPem))) {
        throw new Error('the key does not match the certificate');
      }
      signingKey = await privateKeyFromPem(keyPem);
    } catch (cause) {
      throw new LocalCaError(
        CODES.CA_INVALID,
        `${keyName} is not the ECDSA P-256 private key of ${certName}. ${fix}`,
        { cause, status: 500 },
      );
    }
    return new LocalCa(certificatePem, signingKey, clock);
  }

  get subject(): string {
    return this.#certificate.subject;
  }

  get notAfter(): Date {
    return this.#certificate.notAfter;
  }

  /**
   * The certificate's hash, colon-separated hex. keytool -list shows SHA-256; certlm.msc's
   * "Thumbprint" is SHA-1.
   */
  async fingerprint(algorithm: 'SHA-256' | 'SHA-1' = 'SHA-256'): Promise<string> {
    const bytes = Buffer.from(await this.#certificate.getThumbprint(algorithm));
    return [...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
  }

  /** how many leaf certificates this CA has signed: the cache's tests count generations here */
  get leavesIssued(): number {
    return this.#leavesIssued;
  }

  /** Signs a fresh leaf certificate for `host` (a DNS name or an IP address). */
  async issueLeaf(host: string): Promise<IssuedLeaf> {
    const { keys, keyPem } = await this.#sharedLeafKeys();
    const now = this.#clock.now();
    const notAfter = new Date(
      Math.min(now + LOCAL_CA_DEFAULTS.leafValidityDays * DAY_MS, this.notAfter.getTime()),
    );
    const ipVersion = isIP(host);
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerialNumber(),
      // RFC 5280's upper bound for a CN is 64 characters; clients match on the SAN anyway.
      subject: host.length <= 64 ? [{ CN: [host] }] : [{ O: ['tokenshim'] }],
      issuer: this.#certificate.subject,
      notBefore: new Date(now - LOCAL_CA_DEFAULTS.backdateMs),
      notAfter,
      publicKey: keys.publicKey,
      signingKey: this.#signingKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: ipVersion ? 'ip' : 'dns', value: host }]),
        await x509.AuthorityKeyIdentifierExtension.create(this.#certificate),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    this.#leavesIssued += 1;
    return { host, certificatePem: certificate.toString('pem'), keyPem, notAfter };
  }

  #sharedLeafKeys(): Promise<{ keys: CryptoKeyPair; keyPem: string }> {
    this.#leafKeys ??= (async () => {
      const keys = await generateSigningKeys();
      return { keys, keyPem: await privateKeyToPem(keys.privateKey) };
    })();
    // a failed generation is not remembered: the next CONNECT tries again
    this.#leafKeys.catch(() => (this.#leafKeys = undefined));
    return this.#leafKeys;
  }
}
