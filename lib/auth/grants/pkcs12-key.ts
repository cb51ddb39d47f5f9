import type { X509Certificate, KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../errors.js';
import { Pkcs12Error, decodePkcs12, type Pkcs12KeyEntry } from '../../tls/pkcs12.js';

/**
 * The signing key of the JWT bearer grant (AuthenticationMethod=55) from a PKCS#12 file, as
 * DataDirect takes it: JWTCertStore (the .p12/.pfx), JWTCertPassword, JWTCertAlias (which entry).
 * Decoding is lib/tls/pkcs12.ts; this picks the entry and says what is wrong in those options.
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
  let contents;
  try {
    contents = decodePkcs12(der, opts.password);
  } catch (e) {
    if (!(e instanceof Pkcs12Error)) throw e;
    switch (e.reason) {
      case 'password':
        throw new ConfigError(
          `${where} cannot be opened with JWTCertPassword (wrong password, or none given). Set JWTCertPassword to the password the file was exported with.`,
        );
      case 'format':
        throw new ConfigError(
          `${where} is not a PKCS#12 (.p12/.pfx) file. Export the key and certificate as PKCS#12, or give a PEM key in JWTPrivateKeyFile.`,
        );
      case 'key':
        throw new ConfigError(`${where}: the key${e.alias ? ` "${e.alias}"` : ''} cannot be read.`);
    }
  }
  const { keys, certificates } = contents;
  const aliases = keys.map((k) => k.alias ?? '(no alias)').join(', ');
  let chosen: Pkcs12KeyEntry | undefined;
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
