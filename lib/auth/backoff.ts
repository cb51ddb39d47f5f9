/** Retry timing for a failing token endpoint; units in the names. */
export const BACKOFF = Object.freeze({
  initialMs: 1_000,
  maxMs: 5 * 60_000,
  /** a Retry-After beyond this is treated as this (a misconfigured server must not park a DSN for a day) */
  maxRetryAfterMs: 60 * 60_000,
  /**
   * While requests wait for a token, the endpoint is tried again at least this often whatever
   * the backoff has grown to (unless it said Retry-After): one probe, shared by every request,
   * so an endpoint that comes back after a long outage is noticed within seconds, not minutes.
   */
  probeWhileWaitedForMs: 5_000,
});

/**
 * Exponential backoff with "equal jitter" (half fixed, half random), so many tokenshim instances
 * behind one failing endpoint do not retry in lockstep; never sooner than the server's Retry-After.
 * `attempt` counts failures in a row, from 1.
 */
export function backoffDelayMs(
  attempt: number,
  random: () => number,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** Math.max(0, attempt - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.round(Math.max(jittered, Math.min(retryAfterMs ?? 0, BACKOFF.maxRetryAfterMs)));
}
