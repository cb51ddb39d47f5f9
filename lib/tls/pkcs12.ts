import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

/**
 * What a PKCS#12 file (.p12/.pfx) holds: its private keys (with their friendly names, Java's
 * aliases) and its certificates. Callers pick the entry they need and word errors after their
 * own options (JWTCertStore, ClientCertificate).
 *
 * Node's crypto cannot read PKCS#12, and OpenSSL 3 (behind node's `pfx` option) refuses the
 * legacy RC2/3DES encryption of older Windows and Java exports unless its legacy provider is
 * loaded. node-forge reads them all, beside OpenSSL 3's AES default; @peculiar/x509 (the local
 * CA's library) parses certificates but does not decrypt PKCS#12. forge decodes RSA keys itself
 * and hands others (EC) over as PKCS#8, which node then reads.
 */
export interface Pkcs12Contents {
  readonly keys: readonly Pkcs12KeyEntry[];
  readonly certificates: readonly X509Certificate[];
}

export interface Pkcs12KeyEntry {
  readonly key: KeyObject;
  /** the entry's friendly name, when it has one */
  readonly alias: string | undefined;
}

/** Why a PKCS#12 file could not be read: the caller turns it into a message naming its options. */
export class Pkcs12Error extends Error {
  constructor(
    readonly reason: 'password' | 'format' | 'key',
    /** for `key`: the alias of the key that cannot be read */
    readonly alias?: string,
  ) {
    super(`PKCS#12: ${reason}${alias === undefined ? '' : ` (${alias})`}`);
    this.name = 'Pkcs12Error';
  }
}

export function decodePkcs12(der: Buffer, password: string | undefined): Pkcs12Contents {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password ?? '');
  } catch (e) {
    const message = (e as Error).message;
    throw new Pkcs12Error(
      /MAC could not be verified|Invalid password|decrypt/i.test(message) ? 'password' : 'format',
    );
  }
  const keys: Pkcs12KeyEntry[] = [];
  for (const bagType of [forge.pki.oids.pkcs8ShroudedKeyBag!, forge.pki.oids.keyBag!]) {
    for (const bag of p12.getBags({ bagType })[bagType] ?? []) keys.push(keyOf(bag));
  }
  const certificates = (
    p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? []
  )
    .map(certificateOf)
    .filter((c): c is X509Certificate => c !== undefined);
  return { keys, certificates };
}

function keyOf(bag: forge.pkcs12.Bag): Pkcs12KeyEntry {
  const alias = bag.attributes.friendlyName?.[0] as string | undefined;
  try {
    const key = bag.key
      ? createPrivateKey(forge.pki.privateKeyToPem(bag.key))
      : // forge decodes RSA keys only; others (EC) come as the PKCS#8 structure
        createPrivateKey({
          key: Buffer.from(forge.asn1.toDer(bag.asn1).getBytes(), 'binary'),
          format: 'der',
          type: 'pkcs8',
        });
    return { key, alias };
  } catch {
    throw new Pkcs12Error('key', alias);
  }
}

function certificateOf(bag: forge.pkcs12.Bag): X509Certificate | undefined {
  try {
    const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
    return new X509Certificate(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'));
  } catch {
    return undefined;
  }
}
