/**
 * When a token stops being handed out, and when to refresh it ahead of that: pure functions of
 * the token and the recent fetch time, tested without sockets (test/auth/token/token-timing.test.ts).
 */
import type { AccessToken } from './access-token.js';

export const TOKEN_TIMING = Object.freeze({
  /**
   * A token whose remaining life is below this is not handed out: it would expire on its way
   * upstream. Capped at a tenth of the lifetime so very short-lived tokens stay usable.
   */
  expirySkewMs: 5_000,
  /** lifetimes are whole seconds on the server's clock (see handOutDeadline) */
  wholeSecondMs: 1_000,
  /**
   * Refresh-ahead starts this much before a token stops being handed out, so the new token is
   * back before then and no request waits for it: leadFetches times the recent token fetch time
   * (lock, request, save), at least minLeadMs, at most a tenth of the token's lifetime;
   * defaultLeadMs before any fetch was timed (a token taken from the store at startup).
   *
   * - three fetches: on a loaded machine one fetch can take a few times the one before it (GC, a
   *   busy event loop, a reconnect); the recent time is the longest fetch, halved at each fetch
   *   since, so one slow fetch keeps the lead up for a few renewals instead of one;
   * - 20 ms at least: timers fire late on a busy event loop, and a fetch timed at 1 ms says little;
   * - 250 ms untimed: a token endpoint across the internet, TLS handshake included;
   * - a tenth of the lifetime at most: each ms of lead shortens every token's useful life, and a
   *   2 s token is handed out for one second only (whole-second exp), so 200 ms of lead already
   *   costs a quarter more token requests; an endpoint slower than that cannot be hidden cheaply.
   */
  leadFetches: 3,
  minLeadMs: 20,
  defaultLeadMs: 250,
  /** how often a DSN marked "needs login" looks at the store for a refresh token from `tokenshim login` */
  needsLoginRecheckMs: 2_000,
  /**
   * An upstream rejection drops the token at most this often. The token that replaced a rejected
   * one is kept for this long whatever the upstream says (a replay's 401 included): an upstream
   * that rejects everything costs one token request per interval, not one or two per request,
   * and each of those rotates the refresh token and writes the store.
   */
  rejectionIntervalMs: 5_000,
  /**
   * A token answer later than HeadersTimeout is still read and saved for this long (the server
   * has rotated the refresh token by then: the answer holds the only valid one); callers are
   * told at HeadersTimeout, and no other token request starts meanwhile.
   */
  lateAnswerGraceMs: 120_000,
  /** a rotated refresh token that could not be saved: the save is tried again after 1, 2, 4... s */
  owedSaveFirstRetryMs: 1_000,
  owedSaveMaxRetryMs: 10_000,
});

/**
 * The last moment a token is handed out. Two allowances: expirySkewMs (a tenth of the lifetime
 * at most) for the trip upstream, and a second (half the lifetime at most) because lifetimes are
 * whole seconds on the server's clock, which may have truncated the issue time (oidc-provider
 * stamps exp = floor(now) + ttl): a token can die up to a second before sentAt + expires_in.
 */
export function handOutDeadline(token: AccessToken): number {
  const lifetime = token.expiresAt - token.obtainedAt;
  const allowance = Math.max(
    Math.min(TOKEN_TIMING.expirySkewMs, lifetime / 10),
    Math.min(TOKEN_TIMING.wholeSecondMs, lifetime / 2),
  );
  return token.expiresAt - allowance;
}

/**
 * When to refresh ahead: once the remaining life is below min(RefreshMargin, lifetime / 10), and
 * at the latest `leadMs` (a tenth of the lifetime at most) before the token stops being handed out,
 * so that the fetch is done by then and no request waits for it. RefreshMargin=0 turns
 * refresh-ahead off: on demand only.
 *
 * A tenth, not half: a token is renewed once, late in its life (about one token request per
 * lifetime, where half would make two), and the tenth left is still time for backed-off retries
 * while the endpoint fails. With whole-second exp a 2 s token is handed out for its first second
 * only (see handOutDeadline), so it is renewed about once a second whatever the margin: any token
 * obtained before the old one's exp E expires by E + 1 s at the latest.
 */
export function refreshAt(token: AccessToken, marginMs: number, leadMs: number): number {
  const lifetime = token.expiresAt - token.obtainedAt;
  const byMargin = token.expiresAt - Math.min(marginMs, lifetime / 10);
  if (marginMs <= 0) return byMargin;
  return Math.min(byMargin, handOutDeadline(token) - Math.max(1, Math.min(leadMs, lifetime / 10)));
}

/**
 * How long before the hand-out deadline refresh-ahead starts: leadFetches times the recent fetch
 * time, which is the longest fetch halved at each fetch since (TOKEN_TIMING says why).
 */
export class RefreshLead {
  #fetchMs: number | undefined;

  /** A token fetch (lock, request and save) took `ms`. */
  recordFetch(ms: number): void {
    this.#fetchMs = Math.max(ms, (this.#fetchMs ?? 0) / 2);
  }

  get leadMs(): number {
    return this.#fetchMs === undefined
      ? TOKEN_TIMING.defaultLeadMs
      : Math.max(TOKEN_TIMING.minLeadMs, TOKEN_TIMING.leadFetches * this.#fetchMs);
  }
}
