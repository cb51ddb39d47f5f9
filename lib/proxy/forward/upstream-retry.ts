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

/** How far one request's retries have come. */
export interface RetryState {
  /** retries made so far */
  readonly retries: number;
  /** milliseconds waited so far */
  readonly waitedMs: number;
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
  const wait =
    parseRetryAfterMs(retryAfter, now) ?? RETRY_DEFAULTS.firstWaitMs * 2 ** state.retries;
  return state.waitedMs + wait <= maxWaitMs ? wait : undefined;
}

/**
 * RFC 9110 10.2.3: Retry-After is delay-seconds or an HTTP-date; a date in the past means now.
 * Undefined when absent or unreadable.
 */
export function parseRetryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The value of Retry-After in undici's raw response headers (name, value, name, value...). */
export function retryAfterOf(rawHeaders: readonly Buffer[]): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 11 && name.toString('latin1').toLowerCase() === 'retry-after')
      return rawHeaders[i + 1]?.toString('latin1');
  }
  return undefined;
}
