/**
 * Failures of this machine rather than of the network or the token endpoint: a full disk, a
 * read-only file system, no file descriptors left. Reported as themselves, with the fix, instead
 * of "check TokenURI and the network" (node's own messages name the syscall, not the cure).
 */
import { CODES, TokenshimError, type TokenshimCode } from './errors.js';

/** the errno codes named here, and the TOKENSHIM_* code each is reported as */
const OS_CODES: Readonly<Record<string, TokenshimCode>> = Object.freeze({
  ENOSPC: CODES.DISK_FULL,
  EDQUOT: CODES.DISK_FULL,
  EROFS: CODES.READ_ONLY_FILE_SYSTEM,
  EMFILE: CODES.TOO_MANY_OPEN_FILES,
  ENFILE: CODES.TOO_MANY_OPEN_FILES,
});

/** the TOKENSHIM_* codes osError() reports */
export const OS_ERROR_CODES: ReadonlySet<string> = new Set(Object.values(OS_CODES));

export interface OsErrorContext {
  /** what tokenshim was doing, as a clause: `save the token store /x/tokens.json` */
  readonly action: string;
  /** the file written, for the disk and file-system advice; absent for a socket */
  readonly path?: string;
  readonly dsn?: string;
  /** status a client sees; default 503 (the condition can pass) */
  readonly status?: number;
}

/** the errno code of `e` or of the error it wraps (undici wraps socket errors), if any */
export function errnoOf(e: unknown): string | undefined {
  for (let err = e, depth = 0; err instanceof Error && depth < 4; depth++) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && code in OS_CODES) return code;
    err = err.cause;
  }
  return undefined;
}

/**
 * A TokenshimError naming the cause and the fix when `e` is one of the conditions above, else
 * undefined (the caller reports it its own way).
 */
export function osError(e: unknown, ctx: OsErrorContext): TokenshimError | undefined {
  // reported already, with its own action
  if (e instanceof TokenshimError) return OS_ERROR_CODES.has(e.code) ? e : undefined;
  const errno = errnoOf(e);
  if (errno === undefined) return undefined;
  const code = OS_CODES[errno]!;
  const where = ctx.dsn === undefined ? 'tokenshim' : `DSN "${ctx.dsn}"`;
  const place = ctx.path === undefined ? 'TokenStore' : `the disk holding ${ctx.path}`;
  let message: string;
  if (code === CODES.DISK_FULL) {
    message =
      `${where} cannot ${ctx.action}: ${place} is full (${errno}). ` +
      'Free space on it, or point TokenStore at a file on another disk.';
  } else if (code === CODES.READ_ONLY_FILE_SYSTEM) {
    message =
      `${where} cannot ${ctx.action}: ${ctx.path ?? 'the file'} is on a read-only file system (${errno}). ` +
      'Make it writable (remount it read-write), or point TokenStore at a writable place.';
  } else {
    message =
      `${where} cannot ${ctx.action}: the ${errno === 'ENFILE' ? 'system' : 'process'} has no file ` +
      `descriptors left (${errno}, too many open files). Raise the open-file limit ` +
      '(ulimit -n, or LimitNOFILE= in the service unit), or lower the number of client connections.';
  }
  return new TokenshimError(code, message, {
    status: ctx.status ?? 503,
    ...(ctx.dsn === undefined ? {} : { dsn: ctx.dsn }),
    cause: e,
    extra: { errno },
  });
}
