import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from '../errors.js';
import { ENV } from '../platform/environment-names.js';
import type { CommandOptions } from './command.js';
import { UsageError } from './io.js';

const TLS_PASSPHRASE_ENV = ENV.TLS_PASSPHRASE;

export const SERVE_TLS_OPTIONS = {
  'tls-cert': {
    type: 'string',
    value: 'FILE',
    help: 'serve https with this PEM certificate (chain) and --tls-key',
  },
  'tls-key': {
    type: 'string',
    value: 'FILE',
    help: `the PEM private key of --tls-cert (passphrase, if any, in $${TLS_PASSPHRASE_ENV})`,
  },
  'tls-pfx': {
    type: 'string',
    value: 'FILE',
    help: `serve https with this PKCS#12 (.pfx) certificate and key (passphrase in $${TLS_PASSPHRASE_ENV})`,
  },
} as const satisfies CommandOptions;

export type ServeTls = Pick<SecureContextOptions, 'cert' | 'key' | 'pfx' | 'passphrase'>;

/**
 * `--tls-cert` with `--tls-key`, or `--tls-pfx` alone (a UsageError otherwise): true when https
 * was asked for, false when none of the three is given.
 */
export function tlsFlagsPaired(values: TlsFlagValues): boolean {
  const { 'tls-cert': cert, 'tls-key': key, 'tls-pfx': pfx } = values;
  if (cert === undefined && key === undefined && pfx === undefined) return false;
  if (pfx !== undefined && (cert !== undefined || key !== undefined)) {
    throw new UsageError(
      '--tls-pfx holds the certificate and the key: use it alone, or --tls-cert with --tls-key',
    );
  }
  if (pfx === undefined && (cert === undefined || key === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together: give both (or --tls-pfx)');
  }
  return true;
}

export interface TlsFlagValues {
  readonly 'tls-cert'?: string | undefined;
  readonly 'tls-key'?: string | undefined;
  readonly 'tls-pfx'?: string | undefined;
}

/**
 * What `--tls-cert/--tls-key` or `--tls-pfx` name, read and checked before anything listens: a
 * certificate that does not match its key, a wrong passphrase or an unreadable file is reported
 * with the flag that names it. The passphrase comes from the environment, never the command
 * line (the process list shows every argument to every user).
 */
export async function serveTls(
  values: TlsFlagValues,
  env: NodeJS.ProcessEnv,
): Promise<ServeTls | undefined> {
  if (!tlsFlagsPaired(values)) return undefined;
  const { 'tls-cert': cert, 'tls-key': key, 'tls-pfx': pfx } = values;
  const passphrase = env[TLS_PASSPHRASE_ENV];
  const tls: ServeTls =
    pfx === undefined
      ? { cert: await read('--tls-cert', cert!), key: await read('--tls-key', key!) }
      : { pfx: await read('--tls-pfx', pfx) };
  if (passphrase !== undefined && passphrase !== '') tls.passphrase = passphrase;
  try {
    createSecureContext(tls);
  } catch (e) {
    const files =
      pfx === undefined ? `--tls-cert ${cert} and --tls-key ${key}` : `--tls-pfx ${pfx}`;
    throw new ConfigError(
      `${files} cannot serve https (${(e as Error).message}). Check that the key belongs to the ` +
        `certificate, that both are PEM (or the PFX is PKCS#12), and that $${TLS_PASSPHRASE_ENV} ` +
        'holds the passphrase if the key has one.',
    );
  }
  return tls;
}

async function read(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new ConfigError(
      `${flag} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`,
    );
  }
}
