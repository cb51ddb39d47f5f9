import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RefreshLockTimeoutError, TokenStoreError } from '../../errors.js';
import { replaceFile, type ReplaceFileOptions } from '../../platform/replace-file.js';
import { restrictToOwner } from '../../platform/windows-acl.js';
import { processAlive, withFileLock, type FileLockOptions } from './file-lock.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { StoredTokens, TokenStore } from './token-store.js';

interface TokenFile {
  version: 1;
  entries: Record<string, StoredTokens>;
}

/**
 * Tokens in one JSON file (mode 0600), one entry per TokenStoreKey. Every save writes a temp file
 * in the same directory, fsyncs it, renames it over the old file and fsyncs the directory, so a
 * crash at any instant leaves the old file or the new one, never a torn one (rename is atomic
 * within a file system, POSIX rename(2)).
 *
 * Saves take `<file>.lock` so several processes can share the file without losing each other's
 * entries, and refreshes take `<file>.refresh-<key hash>.lock`. Lock files work between processes
 * on one machine; instances on several machines share tokens through Redis
 * (TokenStore=redis://...).
 *
 * On Windows the rename is retried while another program (an antivirus scanner) holds the file
 * open: lib/platform/replace-file.ts.
 */
export class FileTokenStore implements TokenStore {
  readonly path: string;
  readonly description: string;
  readonly #locks = new KeyedMutex();
  /** saves are read-modify-write of the whole file: one at a time */
  readonly #writes = new KeyedMutex();
  #swept = false;
  readonly #write: WriteFileOptions;

  /**
   * `protectFile` gives each file written an owner-only ACL on Windows, where mode 0600 means
   * nothing and a new file inherits its folder's ACL (under C:\ProgramData, readable by Users).
   * `replace`: the platform and rename seams of the final rename (tests).
   */
  constructor(
    path: string,
    options: { protectFile?: (path: string) => Promise<void>; replace?: ReplaceFileOptions } = {},
  ) {
    this.path = path;
    this.description = `file ${path}`;
    this.#write = {
      protect: options.protectFile ?? ((p) => restrictToOwner(p)),
      replace: options.replace ?? {},
    };
  }

  async load(key: string): Promise<StoredTokens | undefined> {
    return (await this.#read()).entries[key];
  }

  async save(key: string, tokens: StoredTokens): Promise<void> {
    await this.#writes.run('file', async () => {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      // other processes (tokenshim login beside tokenshim serve) rewrite the same file
      await withFileLock(`${this.path}.lock`, this.#writeLock, async () => {
        if (!this.#swept) {
          this.#swept = true;
          await removeOrphanedTempFiles(this.path);
        }
        const file = await this.#read();
        file.entries[key] = { ...tokens };
        await writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`, this.#write);
      });
    });
  }

  /**
   * In-process mutex, then a lock file per key, so two processes on this file never redeem the
   * same rotating refresh token (a reuse-detecting server would revoke the whole family).
   */
  withRefreshLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#locks.run(key, async () => {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const lock = `${this.path}.refresh-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.lock`;
      return withFileLock(lock, this.#refreshLock, fn);
    });
  }

  readonly #writeLock: FileLockOptions = {
    // a save takes milliseconds
    staleAfterMs: 30_000,
    waitLimitMs: 10_000,
    onTimeout: () =>
      new TokenStoreError(
        `The token store ${this.path} stayed locked by another tokenshim process (${this.path}.lock). ` +
          `If no other tokenshim is running, delete ${this.path}.lock.`,
        { status: 503 },
      ),
  };

  readonly #refreshLock: FileLockOptions = {
    // a token request is bounded by the DSN's timeouts; a holder this old is hung, not slow
    staleAfterMs: 5 * 60_000,
    waitLimitMs: 2 * 60_000,
    onTimeout: (waitedMs) => new RefreshLockTimeoutError({ store: this.description, waitedMs }),
  };

  async close(): Promise<void> {}

  async #read(): Promise<TokenFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, entries: {} };
      throw storeError(
        this.path,
        `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        e,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      // never overwrite it: it may hold the only copy of a rotated refresh token
      throw storeError(this.path, 'is not valid JSON', e);
    }
    const entries = (parsed as Partial<TokenFile> | null)?.entries;
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
      throw storeError(this.path, 'is not a tokenshim token file (no "entries" object)');
    }
    return { version: 1, entries: entries as Record<string, StoredTokens> };
  }
}

function storeError(path: string, what: string, cause?: unknown): TokenStoreError {
  return new TokenStoreError(
    `The token store ${path} ${what}. tokenshim leaves it untouched because it may hold the only copy of a ` +
      'rotated refresh token: repair or move it (then log in again if needed), or point TokenStore elsewhere.',
    { status: 500, cause },
  );
}

export interface WriteFileOptions {
  /** restricts the temp file before any data is in it (the rename carries its ACL over) */
  readonly protect?: (path: string) => Promise<void>;
  /** the platform and rename seams of the final rename (retried on Windows, see replaceFile) */
  readonly replace?: ReplaceFileOptions;
}

/** temp file + fsync + rename + directory fsync, mode 0600 */
export async function writeFileAtomic(
  path: string,
  data: string,
  { protect, replace = {} }: WriteFileOptions = {},
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
    await protect?.(temp);
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } catch (e) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await handle.close();
  try {
    await replaceFile(temp, path, replace);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  // the rename itself is durable only once the directory entry is on disk
  const dirHandle = await open(dir, 'r').catch(() => undefined);
  if (dirHandle) {
    await dirHandle.sync().catch(() => undefined);
    await dirHandle.close();
  }
}

/**
 * A process killed between creating its temp file and renaming it leaves `<file>.<pid>.<id>.tmp`
 * behind (never read: the real file is whole), or `<file>.lock.<pid>.<id>` while taking the lock.
 * Removed once per store, if that pid is gone.
 */
async function removeOrphanedTempFiles(path: string): Promise<void> {
  const prefix = `${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const match =
      /^(?:(\d+)\.[0-9a-f]{8}\.tmp|(?:refresh-[0-9a-f]{16}\.)?lock\.(\d+)\.[0-9a-f]{8})$/.exec(
        name.startsWith(prefix) ? name.slice(prefix.length) : '',
      );
    if (!match || processAlive(Number(match[1] ?? match[2]))) continue;
    await unlink(join(dirname(path), name)).catch(() => undefined);
  }
}
