import { createHash, randomUUID } from 'node:crypto';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RefreshLockTimeoutError, TokenStoreError, type TokenshimError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { osError } from '../../os-errors.js';
import { replaceFile, type ReplaceFileOptions } from '../../platform/replace-file.js';
import { restrictToOwner } from '../../platform/windows-acl.js';
import { processAlive, withFileLock, type FileLockOptions } from './file-lock.js';
import { KeyedMutex } from './keyed-mutex.js';
import { isStoredTokens, type StoredTokens, type TokenStore } from './token-store.js';

interface TokenFile {
  version: 1;
  entries: Record<string, StoredTokens>;
}

/**
 * The file-system calls the store makes: node's, or a test's that fails the way a full disk, a
 * read-only mount or an exhausted descriptor table does.
 */
export interface FileStoreIo {
  readonly open: typeof fsp.open;
  readonly rename: typeof fsp.rename;
  readonly readFile: (path: string, encoding: 'utf8') => Promise<string>;
  readonly mkdir: typeof fsp.mkdir;
  readonly readdir: (path: string) => Promise<string[]>;
  readonly unlink: typeof fsp.unlink;
  readonly watch: (
    dir: string,
    listener: (event: string, name: string | null) => void,
  ) => FSWatcher;
}

export const NODE_FILE_STORE_IO: FileStoreIo = Object.freeze({
  open: fsp.open,
  rename: fsp.rename,
  readFile: (path: string, encoding: 'utf8') => fsp.readFile(path, encoding),
  mkdir: fsp.mkdir,
  readdir: (path: string) => fsp.readdir(path),
  unlink: fsp.unlink,
  watch: (dir: string, listener: (event: string, name: string | null) => void) =>
    fsWatch(dir, { persistent: false }, listener),
});

export interface FileTokenStoreOptions {
  readonly io?: FileStoreIo;
  /**
   * gives each file written an owner-only ACL on Windows, where mode 0600 means nothing and a
   * new file inherits its folder's ACL (under C:\ProgramData, readable by Users)
   */
  readonly protectFile?: (path: string) => Promise<void>;
  /** the platform and rename seams of the final rename (retried on Windows, see replaceFile) */
  readonly replace?: ReplaceFileOptions;
  /** a repaired file and a lost watch are logged here; default silent */
  readonly logger?: Logger;
}

/** Why the file cannot be used as it is; `damaged` may be rewritten from a copy in memory. */
type Unreadable =
  { kind: 'damaged'; why: string; cause?: unknown } | { kind: 'error'; error: TokenshimError };

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
 *
 * A file damaged while tokenshim runs (emptied, truncated, overwritten with something else) is
 * moved aside to `<file>.damaged-<time>` and written again from what this process last read or
 * wrote: the refresh tokens in memory are the newest there are. A file that is damaged before this
 * process ever read it is reported and left alone: it may hold the only copy of a rotated token.
 */
export class FileTokenStore implements TokenStore {
  readonly path: string;
  readonly description: string;
  readonly #io: FileStoreIo;
  readonly #write: WriteFileOptions;
  readonly #log: Logger;
  readonly #locks = new KeyedMutex();
  /** saves are read-modify-write of the whole file: one at a time */
  readonly #writes = new KeyedMutex();
  #swept = false;
  /** the file as this process last read or wrote it whole */
  #known: TokenFile | undefined;
  readonly #listeners = new Map<string, Set<() => void>>();
  #watcher: FSWatcher | undefined;

  constructor(path: string, opts: FileTokenStoreOptions = {}) {
    this.path = path;
    this.description = `file ${path}`;
    this.#io = opts.io ?? NODE_FILE_STORE_IO;
    this.#write = {
      io: this.#io,
      protect: opts.protectFile ?? ((p) => restrictToOwner(p)),
      replace: opts.replace ?? {},
    };
    this.#log = (opts.logger ?? silentLogger).child({ component: 'file-token-store', store: path });
  }

  async load(key: string): Promise<StoredTokens | undefined> {
    const read = await this.#read();
    if (!('kind' in read)) return read.entries[key];
    if (read.kind === 'error' || this.#known === undefined) throw this.#unusable(read);
    const known = this.#known;
    await this.#writes
      .run('file', () => this.#lockedWrite(async () => this.#repaired(known)))
      .catch((e: unknown) =>
        // answered from memory all the same; the next save writes the file again
        this.#log.error({ err: (e as Error).message }, 'could not rewrite the damaged token store'),
      );
    return this.#known?.entries[key];
  }

  async save(key: string, tokens: StoredTokens): Promise<void> {
    await this.#writes.run('file', () =>
      this.#lockedWrite(async () => {
        const read = await this.#read();
        let file: TokenFile;
        if (!('kind' in read)) file = read;
        else if (read.kind === 'damaged' && this.#known !== undefined)
          file = await this.#repaired(this.#known);
        else throw this.#unusable(read);
        file.entries[key] = { ...tokens };
        return file;
      }),
    );
  }

  /**
   * In-process mutex, then a lock file per key, so two processes on this file never redeem the
   * same rotating refresh token (a reuse-detecting server would revoke the whole family).
   */
  withRefreshLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#locks.run(key, async () => {
      await this.#mkdir('take the refresh lock');
      const lock = `${this.path}.refresh-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.lock`;
      let holding = false;
      try {
        return await withFileLock(lock, this.#refreshLock, () => {
          holding = true;
          return fn();
        });
      } catch (e) {
        // what `fn` threw is its own; only taking the lock is reported as the lock
        if (holding) throw e;
        throw osError(e, { action: `take the refresh lock ${lock}`, path: lock }) ?? e;
      }
    });
  }

  /**
   * The directory is watched (one watcher per file, whatever the keys): a rename over the file
   * is another writer's save. Where the file system cannot be watched, changes by others are
   * seen at the next refresh instead.
   */
  watch(key: string, listener: () => void): () => void {
    let set = this.#listeners.get(key);
    if (!set) this.#listeners.set(key, (set = new Set()));
    set.add(listener);
    if (!this.#watcher) this.#startWatching();
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(key);
      if (this.#listeners.size === 0) this.#stopWatching();
    };
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

  async close(): Promise<void> {
    this.#listeners.clear();
    this.#stopWatching();
  }

  /** Under the write lock: `build` says what the file should hold, and it is written so. */
  async #lockedWrite(build: () => Promise<TokenFile>): Promise<void> {
    await this.#mkdir('save tokens');
    try {
      // other processes (tokenshim login beside tokenshim serve) rewrite the same file
      await withFileLock(`${this.path}.lock`, this.#writeLock, async () => {
        if (!this.#swept) {
          this.#swept = true;
          await removeOrphanedTempFiles(this.path, this.#io);
        }
        const file = await build();
        await writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`, this.#write);
        this.#known = structuredClone(file);
      });
    } catch (e) {
      // a full disk, a read-only mount, no descriptors: said as such; anything else as it came
      throw osError(e, { action: `save the token store ${this.path}`, path: this.path }) ?? e;
    }
  }

  /** `known` to write in place of a damaged file, which is kept beside it for a person to look at. */
  async #repaired(known: TokenFile): Promise<TokenFile> {
    const read = await this.#read();
    // repaired meanwhile (another caller, another process): nothing to move aside
    if (!('kind' in read)) return { version: 1, entries: { ...known.entries, ...read.entries } };
    const aside = `${this.path}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await this.#io.rename(this.path, aside).catch(() => undefined);
    this.#log.error(
      { event: 'token_store_repaired', damaged: aside },
      'the token store was damaged; it is written again from the tokens in memory (the damaged file is kept beside it)',
    );
    return structuredClone(known);
  }

  async #read(): Promise<TokenFile | Unreadable> {
    let text: string;
    try {
      text = await this.#io.readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, entries: {} };
      const error =
        osError(e, { action: `read the token store ${this.path}`, path: this.path }) ??
        storeError(this.path, `cannot be read (${errnoText(e)})`, e);
      return { kind: 'error', error };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return { kind: 'damaged', why: 'is not valid JSON', cause: e };
    }
    const entries = (parsed as Partial<TokenFile> | null)?.entries;
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
      return { kind: 'damaged', why: 'is not a tokenshim token file (no "entries" object)' };
    }
    const bad = Object.keys(entries).find((k) => !isStoredTokens(entries[k]));
    if (bad !== undefined) {
      return { kind: 'damaged', why: `has an entry "${bad}" that is not tokenshim's token JSON` };
    }
    const file: TokenFile = { version: 1, entries: entries as Record<string, StoredTokens> };
    this.#known = structuredClone(file);
    return file;
  }

  #unusable(read: Unreadable): TokenshimError {
    if (read.kind === 'error') return read.error;
    // never overwrite it: it may hold the only copy of a rotated refresh token
    return storeError(this.path, read.why, read.cause);
  }

  async #mkdir(action: string): Promise<void> {
    try {
      await this.#io.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw osError(e, { action, path: dirname(this.path) }) ?? e;
    }
  }

  #startWatching(): void {
    const name = basename(this.path);
    try {
      this.#watcher = this.#io.watch(dirname(this.path), (_event, changed) => {
        if (changed !== null && changed !== name) return;
        for (const set of this.#listeners.values()) for (const listener of set) listener();
      });
      this.#watcher.on('error', (e: Error) => this.#watchLost(e));
    } catch (e) {
      this.#watchLost(e);
    }
  }

  #watchLost(e: unknown): void {
    this.#stopWatching();
    this.#log.warn(
      { err: errnoText(e) },
      'cannot watch the token store for changes by other processes; they are seen at the next refresh',
    );
  }

  #stopWatching(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

function storeError(path: string, what: string, cause: unknown): TokenStoreError {
  return new TokenStoreError(
    `The token store ${path} ${what}. tokenshim leaves it untouched because it may hold the only copy of a ` +
      'rotated refresh token: repair or move it (then log in again if needed), or point TokenStore elsewhere.',
    { status: 500, cause },
  );
}

function errnoText(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message ?? String(e);
}

export interface WriteFileOptions {
  readonly io?: FileStoreIo;
  /** restricts the temp file before any data is in it (the rename carries its ACL over) */
  readonly protect?: (path: string) => Promise<void>;
  /** the platform and rename seams of the final rename (retried on Windows, see replaceFile) */
  readonly replace?: ReplaceFileOptions;
}

/** temp file + fsync + rename + directory fsync, mode 0600 */
export async function writeFileAtomic(
  path: string,
  data: string,
  opts: WriteFileOptions = {},
): Promise<void> {
  const io = opts.io ?? NODE_FILE_STORE_IO;
  const dir = dirname(path);
  await io.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const handle = await io.open(temp, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
    await opts.protect?.(temp);
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } catch (e) {
    await handle.close();
    await io.unlink(temp).catch(() => undefined);
    throw e;
  }
  await handle.close();
  try {
    await replaceFile(temp, path, { rename: io.rename, ...opts.replace });
  } catch (e) {
    await io.unlink(temp).catch(() => undefined);
    throw e;
  }
  // the rename itself is durable only once the directory entry is on disk
  const dirHandle = await io.open(dir, 'r').catch(() => undefined);
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
async function removeOrphanedTempFiles(path: string, io: FileStoreIo): Promise<void> {
  const prefix = `${basename(path)}.`;
  const names = await io.readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const match =
      /^(?:(\d+)\.[0-9a-f]{8}\.tmp|(?:refresh-[0-9a-f]{16}\.)?lock\.(\d+)\.[0-9a-f]{8})$/.exec(
        name.startsWith(prefix) ? name.slice(prefix.length) : '',
      );
    if (!match || processAlive(Number(match[1] ?? match[2]))) continue;
    await io.unlink(join(dirname(path), name)).catch(() => undefined);
  }
}
