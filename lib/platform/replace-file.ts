import { rename as fsRename } from 'node:fs/promises';
import { setTimeout as sleepMs } from 'node:timers/promises';

/**
 * How long a replacement keeps trying while Windows holds the target open (ms between tries).
 * Antivirus scanners, backup agents, the search indexer and an editor showing the file open it
 * without FILE_SHARE_DELETE for a moment after every write; MoveFileEx over it then fails with
 * ERROR_ACCESS_DENIED or ERROR_SHARING_VIOLATION (EPERM, EACCES or EBUSY in node) until they let
 * go. About 4 s in all: graceful-fs waits for the same reason, and a scan of a small JSON file
 * takes milliseconds.
 */
export const REPLACE_RETRY_DELAYS_MS: readonly number[] = Object.freeze([
  10, 20, 40, 80, 160, 320, 640, 1000, 1000,
]);

/** The errors a Windows rename meets while another process has the target open. */
const TRANSIENT_ON_WINDOWS: ReadonlySet<string> = new Set(['EPERM', 'EACCES', 'EBUSY']);

export interface ReplaceFileOptions {
  /** default process.platform: only win32 retries (elsewhere EPERM means a real permission problem) */
  readonly platform?: NodeJS.Platform;
  /** default fs.promises.rename */
  readonly rename?: (from: string, to: string) => Promise<void>;
  /** default timers/promises setTimeout */
  readonly sleep?: (ms: number) => Promise<unknown>;
  readonly delaysMs?: readonly number[];
}

/**
 * Moves `from` over `to` (the last step of an atomic write). On Windows a rename that meets a
 * file held open by another process is retried with growing pauses, so a rotated refresh token
 * reaches the disk instead of staying in memory only; the last error is thrown once the pauses
 * run out, with how often it was tried.
 */
export async function replaceFile(
  from: string,
  to: string,
  opts: ReplaceFileOptions = {},
): Promise<void> {
  const rename = opts.rename ?? fsRename;
  const delays =
    (opts.platform ?? process.platform) === 'win32'
      ? (opts.delaysMs ?? REPLACE_RETRY_DELAYS_MS)
      : [];
  const sleep = opts.sleep ?? sleepMs;
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      const delay = delays[attempt];
      if (!TRANSIENT_ON_WINDOWS.has(code) || delay === undefined) {
        if (attempt > 0 && e instanceof Error) {
          e.message = `${e.message} (tried ${attempt + 1} times: another program, often an antivirus scanner, kept ${to} open)`;
        }
        throw e;
      }
      await sleep(delay);
    }
  }
}
