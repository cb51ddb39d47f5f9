import { responseHeaderValues } from '../../http/raw-headers.js';
import { parseRetryAfter } from '../../http/retry-after.js';
import type { Logger } from '../../log/logger.js';

/**
 * RetryOnStatus: an upstream answer that says "later" (429 Too Many Requests, 503 Service
 * Unavailable) is not given to a client such as a Qlik load, which would fail on it; the request
 * is sent again after the wait the upstream names, as DataDirect's driver does (RETRY_AFTER).
 */
export const RETRY_DEFAULTS = Object.freeze({
  /** retries of one request at most: four answers in all */
  maxRetries: 3,
  /** the wait before the first retry when the upstream names none; it doubles each time */
  firstWaitMs: 1_000,
});

/** How far one request's retries have come (a page of a joined answer has its own). */
export interface RetryState {
  /** retries made so far */
  readonly retries: number;
  /** milliseconds waited so far */
  readonly waitedMs: number;
}

/** One request's retries: each wait taken is counted against MaxRetryWait. */
export class RetryBudget implements RetryState {
  retries = 0;
  waitedMs = 0;

  /** The wait before the next retry, now spent; undefined: the client gets this answer. */
  take(retryAfter: string | undefined, now: number, maxWaitMs: number): number | undefined {
    const wait = retryWaitMs(this, retryAfter, now, maxWaitMs);
    if (wait === undefined) return undefined;
    this.retries++;
    this.waitedMs += wait;
    return wait;
  }
}

/**
 * How long to wait before sending the request again, or undefined when the client gets this
 * answer now: retries used up, or a wait (Retry-After, else 1 s, 2 s, 4 s) that would take the
 * request's waits past `maxWaitMs` (the upstream asks for longer than the client should be kept
 * waiting; its Retry-After reaches the client with the answer).
 */
export function retryWaitMs(
  state: RetryState,
  retryAfter: string | undefined,
  now: number,
  maxWaitMs: number,
): number | undefined {
  if (state.retries >= RETRY_DEFAULTS.maxRetries || maxWaitMs <= 0) return undefined;
  const wait = parseRetryAfter(retryAfter, now) ?? RETRY_DEFAULTS.firstWaitMs * 2 ** state.retries;
  return state.waitedMs + wait <= maxWaitMs ? wait : undefined;
}

/** One line per retry: which DSN, what the upstream said, how long tokenshim waits. */
export function logRetry(
  log: Logger,
  dsn: string,
  status: number,
  retry: number,
  waitMs: number,
): void {
  log.info(
    { dsn, status, retry, waitMs },
    `the upstream answered ${status}: sending the request again in ${waitMs / 1000} s ` +
      `(retry ${retry} of ${RETRY_DEFAULTS.maxRetries}, RetryOnStatus)`,
  );
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * RFC 9110 9.2.2: an idempotent request that failed before any answer may be sent again, here
 * only after a connection reset (the race of a reused keep-alive connection the upstream had just
 * closed: the request is sent once more on a fresh one).
 */
export function resendableAfterReset(method: string, err: Error): boolean {
  if (!IDEMPOTENT.has(method)) return false;
  const code = (err as { code?: string }).code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
}

/** The value of Retry-After in undici's raw response headers (name, value, name, value...). */
export function retryAfterOf(rawHeaders: readonly Buffer[]): string | undefined {
  return responseHeaderValues(rawHeaders, 'retry-after')[0];
}
