import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Clock } from '../clock.js';
import { CODES, LocalCaError } from '../errors.js';
import { replaceFile } from '../platform/replace-file.js';
import { tokenshimHome } from '../platform/tokenshim-home.js';
import { LocalCa } from './local-ca.js';

/**
 * `.crt` because both Windows' certificate import wizard (certlm.msc) and Debian's
 * update-ca-certificates look for that extension; the content is PEM, which both read.
 */
export const CA_CERTIFICATE_FILE = 'tokenshim-ca.crt';
export const CA_KEY_FILE = 'tokenshim-ca.key';

export interface CaPaths {
  readonly dir: string;
  readonly certificatePath: string;
  readonly keyPath: string;
}

/**
 * `--dir`, else `$TOKENSHIM_HOME/ca`, else (a Windows service account) `%ProgramData%\tokenshim\ca`,
 * else `~/.tokenshim/ca`.
 */
export function resolveCaDir(opts: { dir?: string; env?: NodeJS.ProcessEnv } = {}): string {
  if (opts.dir) return resolve(opts.dir);
  return join(tokenshimHome({ env: opts.env ?? {} }), 'ca');
}

export function caPaths(dir: string): CaPaths {
  return { dir, certificatePath: join(dir, CA_CERTIFICATE_FILE), keyPath: join(dir, CA_KEY_FILE) };
}

/**
 * Creates a CA in `dir`: the key at mode 0600, the certificate at 0644 (it is public; users copy
 * it into trust stores). An existing CA is kept unless `force`: replacing it breaks every trust
 * store it was imported into.
 */
export async function initLocalCa(
  dir: string,
  opts: { force?: boolean; clock?: Clock; commonName?: string } = {},
): Promise<{ ca: LocalCa } & CaPaths> {
  const paths = caPaths(dir);
  if (!opts.force && ((await exists(paths.certificatePath)) || (await exists(paths.keyPath)))) {
    throw new LocalCaError(
      CODES.CA_EXISTS,
      `A tokenshim CA already exists in ${dir}. Keep using it (\`tokenshim ca path\` prints its certificate), ` +
        'or run `tokenshim ca init --force` to replace it and import the new certificate again.',
      { status: 500 },
    );
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { ca, keyPem } = await LocalCa.create({ clock: opts.clock, commonName: opts.commonName });
  // key first: a certificate without its key would be a CA nobody can load
  await writeAtomically(paths.keyPath, keyPem, 0o600);
  await writeAtomically(paths.certificatePath, ca.certificatePem, 0o644);
  return { ca, ...paths };
}

/**
 * The CA in `dir`, or `undefined` when there is none (no files at all). Half a CA, an unreadable
 * or mismatched pair, or a key that others may read is an error naming the file and the fix.
 */
export async function loadLocalCa(
  dir: string,
  opts: { clock?: Clock; platform?: NodeJS.Platform } = {},
): Promise<LocalCa | undefined> {
  const paths = caPaths(dir);
  const [certificatePem, keyPem] = await Promise.all([
    readIfExists(paths.certificatePath),
    readIfExists(paths.keyPath),
  ]);
  if (certificatePem === undefined && keyPem === undefined) return undefined;
  if (certificatePem === undefined || keyPem === undefined) {
    const missing = certificatePem === undefined ? paths.certificatePath : paths.keyPath;
    throw new LocalCaError(
      CODES.CA_INVALID,
      `The tokenshim CA in ${dir} is incomplete: ${missing} is missing. ` +
        'Run `tokenshim ca init --force` to make a new CA (and import its certificate again).',
      { status: 500 },
    );
  }
  // As ssh does with private keys: refuse a CA key others can read, since whoever holds it can
  // impersonate any HTTPS site to every client that trusts this CA. Windows has no mode bits.
  if ((opts.platform ?? process.platform) !== 'win32') {
    const mode = (await stat(paths.keyPath)).mode & 0o777;
    if (mode & 0o077) {
      throw new LocalCaError(
        CODES.CA_INVALID,
        `${paths.keyPath} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}). ` +
          `Run \`chmod 600 ${paths.keyPath}\`, then start tokenshim again.`,
        { status: 500 },
      );
    }
  }
  return LocalCa.fromPem(certificatePem, keyPem, { clock: opts.clock, source: paths });
}

/**
 * Temp file + fsync + rename. The temp name is unpredictable and opened with O_EXCL (`wx`): a
 * predictable name lets another local user plant a symlink there first, and the CA key would be
 * written through it to a file they can read.
 */
async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // open()'s mode is filtered by the umask; the key must end at exactly 0600
    await chmod(temp, mode);
    await replaceFile(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LocalCaError(CODES.CA_INVALID, `Cannot read ${path}: ${(err as Error).message}.`, {
      cause: err,
      status: 500,
    });
  }
}

async function exists(path: string): Promise<boolean> {
  return (await readIfExists(path)) !== undefined;
}

/**
 * What `tokenshim serve` does at startup: the CA when some DSN has InterceptTLS=1, else none is
 * read (a broken CA file must not stop a proxy that does not use it). A missing CA is only a
 * warning here: those CONNECTs are answered 502 TOKENSHIM_CA_MISSING until `tokenshim ca init`
 * and a restart. An unusable CA is an error naming the file and the fix.
 */
export async function loadCaForInterception(
  dsns: readonly { readonly name: string; readonly interceptTls: boolean }[],
  opts: {
    dir?: string;
    env?: NodeJS.ProcessEnv;
    clock?: Clock;
    warn?: (message: string) => void;
  } = {},
): Promise<LocalCa | undefined> {
  const intercepting = dsns.filter((d) => d.interceptTls).map((d) => d.name);
  if (intercepting.length === 0) return undefined;
  const dir = resolveCaDir({
    ...(opts.dir === undefined ? {} : { dir: opts.dir }),
    env: opts.env ?? process.env,
  });
  const ca = await loadLocalCa(dir, { ...(opts.clock ? { clock: opts.clock } : {}) });
  if (!ca) {
    opts.warn?.(
      `DSN(s) ${intercepting.map((n) => `"${n}"`).join(', ')} have InterceptTLS=1 but there is no tokenshim CA in ${dir}: ` +
        'HTTPS through the proxy to them is refused until you run `tokenshim ca init` and restart.',
    );
  }
  return ca;
}
