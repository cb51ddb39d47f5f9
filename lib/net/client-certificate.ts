import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ClientCertificateFiles } from '../config/dsn.js';
import { ConfigError } from '../errors.js';
import { Pkcs12Error, decodePkcs12 } from '../tls/pkcs12.js';

/** A client certificate as TLS takes it: the chain (leaf first) and the key, both PEM. */
export interface ClientCertificate {
  readonly cert: string;
  /** unencrypted PKCS#8: decrypted once here, so a wrong password stops startup, not a request */
  readonly key: string;
  /** the leaf's subject, for messages */
  readonly subject: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const PEM_PRIVATE_KEY =
  /-----BEGIN ((?:ENCRYPTED |RSA |EC |DSA )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

/**
 * ClientCertificate, ClientCertificateKey and ClientCertificatePassword as one certificate and
 * key. The file is PEM when it holds a `-----BEGIN` line (the certificate, maybe its chain, maybe
 * the key: what openssl and most providers' portals give), else PKCS#12 (.p12/.pfx: what
 * Windows' certificate export and Java's keytool give). Every way it can be wrong stops with a
 * ConfigError naming the option and the fix, before any connection is made.
 */
export function readClientCertificate(
  dsn: string,
  files: ClientCertificateFiles,
  read: (path: string) => Buffer = readFileSync,
): ClientCertificate {
  const bytes = readOption(dsn, 'ClientCertificate', files.file, read);
  if (!bytes.toString('latin1').includes('-----BEGIN ')) {
    return fromPkcs12(dsn, files, bytes);
  }
  const text = bytes.toString('latin1');
  const where = `DSN "${dsn}": ClientCertificate ${files.file}`;
  const certificates = (text.match(PEM_CERTIFICATE) ?? []).map((pem, i, all) => {
    try {
      return new X509Certificate(pem);
    } catch {
      throw new ConfigError(
        `${where}: certificate ${i + 1} of ${all.length} is damaged and cannot be parsed. Export the certificate again as PEM.`,
      );
    }
  });
  if (certificates.length === 0) {
    throw new ConfigError(
      `${where} holds no certificate ("-----BEGIN CERTIFICATE-----"). Point ClientCertificate at the client certificate (PEM, or a .p12/.pfx file).`,
    );
  }
  const keySource =
    files.keyFile === undefined
      ? { option: 'ClientCertificate', file: files.file, text }
      : {
          option: 'ClientCertificateKey',
          file: files.keyFile,
          text: readOption(dsn, 'ClientCertificateKey', files.keyFile, read).toString('latin1'),
        };
  const keyPem = PEM_PRIVATE_KEY.exec(keySource.text)?.[0];
  if (keyPem === undefined) {
    throw new ConfigError(
      files.keyFile === undefined
        ? `${where} holds no private key. Set ClientCertificateKey to the key's PEM file, or put the key in the same file.`
        : `DSN "${dsn}": ClientCertificateKey ${files.keyFile} holds no PEM private key ("-----BEGIN PRIVATE KEY-----").`,
    );
  }
  const key = decryptKey(dsn, keySource, keyPem, files.password);
  return certificateFor(key, certificates, () => {
    throw new ConfigError(
      `DSN "${dsn}": the private key in ${keySource.option} ${keySource.file} does not belong to the certificate in ClientCertificate ${files.file}. ` +
        'Give the key the certificate was issued for.',
    );
  });
}

function readOption(
  dsn: string,
  option: string,
  path: string,
  read: (path: string) => Buffer,
): Buffer {
  try {
    return read(path);
  } catch (e) {
    throw new ConfigError(
      `DSN "${dsn}": ${option} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}). ` +
        `Point ${option} at a file the account tokenshim runs as can read.`,
    );
  }
}

function decryptKey(
  dsn: string,
  source: { readonly option: string; readonly file: string },
  pem: string,
  password: string | undefined,
): KeyObject {
  const where = `DSN "${dsn}": the private key in ${source.option} ${source.file}`;
  // PKCS#8 `ENCRYPTED PRIVATE KEY`, or OpenSSL's traditional `Proc-Type: 4,ENCRYPTED` header
  if (password === undefined && /ENCRYPTED/.test(pem)) {
    throw new ConfigError(`${where} is encrypted. Set ClientCertificatePassword to its password.`);
  }
  try {
    return createPrivateKey({
      key: pem,
      format: 'pem',
      ...(password === undefined ? {} : { passphrase: password }),
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (password !== undefined && /ENCRYPTED/.test(pem)) {
      throw new ConfigError(
        `${where} cannot be decrypted with ClientCertificatePassword. Set the password the key was encrypted with.`,
      );
    }
    throw new ConfigError(`${where} cannot be read (${code || 'not a private key'}).`);
  }
}

function fromPkcs12(dsn: string, files: ClientCertificateFiles, der: Buffer): ClientCertificate {
  const where = `DSN "${dsn}": ClientCertificate ${files.file}`;
  if (files.keyFile !== undefined) {
    throw new ConfigError(
      `${where} is a PKCS#12 file, which holds its own key: remove ClientCertificateKey (it is for PEM certificates).`,
    );
  }
  let contents;
  try {
    contents = decodePkcs12(der, files.password);
  } catch (e) {
    if (!(e instanceof Pkcs12Error)) throw e;
    throw new ConfigError(
      e.reason === 'password'
        ? `${where} cannot be opened with ClientCertificatePassword (wrong password, or none given). Set ClientCertificatePassword to the password the file was exported with.`
        : e.reason === 'format'
          ? `${where} is neither PEM ("-----BEGIN CERTIFICATE-----") nor PKCS#12 (.p12/.pfx). Export the client certificate in one of them.`
          : `${where}: the key${e.alias ? ` "${e.alias}"` : ''} cannot be read.`,
    );
  }
  if (contents.keys.length === 0) {
    throw new ConfigError(
      `${where} holds no private key. Export the certificate together with its private key.`,
    );
  }
  for (const { key } of contents.keys) {
    const found = certificateFor(key, contents.certificates, () => undefined);
    if (found) return found;
  }
  throw new ConfigError(
    `${where} holds no certificate for its private key. Export the certificate together with its private key.`,
  );
}

/** The certificate `key` belongs to, first, then the rest of the chain. */
function certificateFor<T>(
  key: KeyObject,
  certificates: readonly X509Certificate[],
  none: () => T,
): ClientCertificate | T {
  const leaf = certificates.find((c) => c.checkPrivateKey(key));
  if (leaf === undefined) return none();
  return {
    cert: [leaf, ...certificates.filter((c) => c !== leaf)].map((c) => c.toString()).join(''),
    key: key.export({ format: 'pem', type: 'pkcs8' }) as string,
    subject: leaf.subject,
  };
}
