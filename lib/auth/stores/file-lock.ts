import { randomUUID } from 'node:crypto';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FileLockOptions {
  /** a lock older than this is a crashed (or hung) holder's and is broken */
  readonly staleAfterMs: number;
  /** how long to wait for a live holder */
  readonly waitLimitMs: number;
  /** what to throw when the wait runs out */
  readonly onTimeout: (waitedMs: number) => Error;
}

const RETRY_MS = 10;

/**
 * Runs `fn` holding the lock file `lock`, across processes (`tokenshim serve` beside
 * `tokenshim login` or `tokenshim token`, or two serves on one config). A lock whose process is
 * gone, or older than `staleAfterMs`, is broken.
 */
export async function withFileLock<T>(
  lock: string,
  opts: FileLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  // the pid is in the file before the lock exists (link(2) is atomic and fails when the lock
  // does), so a lock always names its holder, even one killed the instant it got it
  const mine = `${lock}.${process.pid}.${randomUUID().slice(0, 8)}`;
  await writeFile(mine, String(process.pid), { mode: 0o600 });
  try {
    await acquire(lock, mine, opts);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

async function acquire(lock: string, mine: string, opts: FileLockOptions): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      await link(mine, lock);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await isStale(lock, opts.staleAfterMs)) {
      await unlink(lock).catch(() => undefined);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= opts.waitLimitMs) throw opts.onTimeout(waited);
    await sleep(RETRY_MS);
  }
}

async function isStale(lock: string, staleAfterMs: number): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(lock, 'utf8'), stat(lock)]);
    if (Date.now() - info.mtimeMs > staleAfterMs) return true;
    const pid = Number(text);
    return !Number.isInteger(pid) || pid <= 0 || !processAlive(pid);
  } catch {
    // released meanwhile: try again
    return false;
  }
}

export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is just not ours
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
