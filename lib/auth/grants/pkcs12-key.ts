import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import forge from 'node-forge';
import { ConfigError } from '../../errors.js';

/**
 * The signing key of the JWT bearer grant (AuthenticationMethod=55) from a PKCS#12 file, as
 * DataDirect takes it: JWTCertStore (the .p12/.pfx), JWTCertPassword, JWTCertAlias (which entry).
 *
 * Node's crypto cannot read PKCS#12. node-forge can, including the legacy 3DES/RC2 encryption of
 * older Windows and Java exports beside OpenSSL 3's AES default; @peculiar/x509 (already used for
 * the local CA) parses certificates but does not decrypt PKCS#12. forge decodes RSA keys itself
 * and hands others (EC) over as PKCS#8, which Node then reads.
 */
export interface Pkcs12Key {
  readonly privateKey: KeyObject;
  /** the certificate that belongs to the key, when the file has it */
  readonly certificate?: X509Certificate;
  /** the entry's friendly name (alias), when it has one */
  readonly alias?: string;
}

export async function loadPkcs12Key(opts: {
  readonly dsn: string;
  readonly file: string;
  readonly password?: string;
  readonly alias?: string;
}): Promise<Pkcs12Key> {
  let der: Buffer;
  try {
    der = await readFile(opts.file);
  } catch (e) {
    throw new ConfigError(
      `DSN "${opts.dsn}": JWTCertStore ${opts.file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}).`,
    );
  }
  return readPkcs12Key(der, opts);
}

interface KeyEntry {
  key: KeyObject;
  alias: string | undefined;
}

export function readPkcs12Key(
  der: Buffer,
  opts: {
    readonly dsn: string;
    readonly file: string;
    readonly password?: string;
    readonly alias?: string;
  },
): Pkcs12Key {
  const where = `DSN "${opts.dsn}": JWTCertStore ${opts.file}`;
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, opts.password ?? '');
  } catch (e) {
    const message = (e as Error).message;
    if (/MAC could not be verified|Invalid password|decrypt/i.test(message)) {
      throw new ConfigError(
        `${where} cannot be opened with JWTCertPassword (wrong password, or none given). Set JWTCertPassword to the password the file was exported with.`,
      );
    }
    throw new ConfigError(
      `${where} is not a PKCS#12 (.p12/.pfx) file. Export the key and certificate as PKCS#12, or give a PEM key in JWTPrivateKeyFile.`,
    );
  }

  const keys: KeyEntry[] = [];
  for (const bagType of [forge.pki.oids.pkcs8ShroudedKeyBag!, forge.pki.oids.keyBag!]) {
    for (const bag of p12.getBags({ bagType })[bagType] ?? []) keys.push(keyOf(bag, where));
  }
  const certificates = (
    p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? []
  )
    .map(certificateOf)
    .filter((c): c is X509Certificate => c !== undefined);

  const aliases = keys.map((k) => k.alias ?? '(no alias)').join(', ');
  let chosen: KeyEntry | undefined;
  if (opts.alias !== undefined) {
    chosen = keys.find((k) => k.alias?.toLowerCase() === opts.alias!.toLowerCase());
    if (!chosen) {
      throw new ConfigError(
        `${where} has no key with the alias "${opts.alias}" (it has: ${aliases || 'no keys'}). Set JWTCertAlias to one of them.`,
      );
    }
  } else if (keys.length === 1) {
    chosen = keys[0];
  } else {
    throw new ConfigError(
      keys.length === 0
        ? `${where} holds no private key. Export the certificate together with its private key.`
        : `${where} holds ${keys.length} keys (${aliases}). Set JWTCertAlias to the one to sign with.`,
    );
  }
  const key = chosen!.key;
  const certificate = certificates.find((c) => c.checkPrivateKey(key));
  return {
    privateKey: key,
    ...(certificate ? { certificate } : {}),
    ...(chosen!.alias === undefined ? {} : { alias: chosen!.alias }),
  };
}

function keyOf(bag: forge.pkcs12.Bag, where: string): KeyEntry {
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
    throw new ConfigError(`${where}: the key${alias ? ` "${alias}"` : ''} cannot be read.`);
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
