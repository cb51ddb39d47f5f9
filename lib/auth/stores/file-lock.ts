import { randomUUID } from 'node:crypto';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenshimError } from '../../errors.js';

/** A lock older than this is a crashed holder's: a save takes milliseconds. */
const STALE_AFTER_MS = 30_000;
const WAIT_LIMIT_MS = 10_000;
const RETRY_MS = 10;

/**
 * Runs `fn` holding `<file>.lock`, so two processes on one token file (`tokenshim serve` and
 * `tokenshim login`, or two serves) never interleave their read-modify-write of it and lose each
 * other's refresh tokens. A lock whose process is gone, or older than any save could take, is
 * broken.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  // the pid is in the file before the lock exists (link(2) is atomic and fails when the lock
  // does), so a lock always names its holder, even one killed the instant it got it
  const mine = `${lock}.${process.pid}.${randomUUID().slice(0, 8)}`;
  await writeFile(mine, String(process.pid), { mode: 0o600 });
  try {
    await acquire(file, lock, mine);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

async function acquire(file: string, lock: string, mine: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    try {
      await link(mine, lock);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await isStale(lock)) {
      await unlink(lock).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new TokenshimError(
        'TOKENSHIM_TOKEN_STORE',
        `The token store ${file} stayed locked by another tokenshim process (${lock}) for ` +
          `${WAIT_LIMIT_MS / 1000} s. If no other tokenshim is running, delete ${lock}.`,
        { status: 503 },
      );
    }
    await sleep(RETRY_MS);
  }
}

async function isStale(lock: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(lock, 'utf8'), stat(lock)]);
    if (Date.now() - info.mtimeMs > STALE_AFTER_MS) return true;
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
