/**
 * The upstream's view of which access tokens exist and when each expires: filled from the local
 * OAuth server's own `*.saved` events (it runs in the same process), so checking a request is one
 * Map lookup and the check never becomes the bottleneck it would be with introspection.
 *
 * Expiry follows the OAuth server's rule (oidc-provider `isExpired`: `exp <= now` in whole
 * seconds), which is also RFC 7519 4.1.4's: a token is expired from the second `exp` names.
 * oidc-provider stamps `exp = floor(now) + ttl`, so a 2-second token really lives between 1 and 2
 * seconds; a client that trusts `expires_in` to the millisecond can be late by up to a second.
 * The ledger records how late each expired use was, to tell that edge from a real stale token.
 */
export interface LedgerCounts {
  /** requests checked */
  checked: number;
  ok: number;
  /** no Authorization header, or not `Bearer <token>` */
  missing: number;
  /** a token the OAuth server never issued */
  unknown: number;
  /** a real token, used at or after its `exp` */
  expired: number;
  /** how long after `exp` the latest-used expired token arrived, ms */
  maxExpiredLateMs: number;
}

export type TokenVerdict = 'ok' | 'missing' | 'unknown' | 'expired';

export class TokenLedger {
  /** token value → exp in epoch ms */
  readonly #expiry = new Map<string, number>();
  readonly #counts: LedgerCounts = emptyCounts();

  /** `exp` in epoch seconds, as the OAuth server stamps it */
  issued(token: string, expSeconds: number): void {
    this.#expiry.set(token, expSeconds * 1000);
  }

  check(authorization: string | undefined, now = Date.now()): TokenVerdict {
    const c = this.#counts;
    c.checked++;
    if (authorization === undefined || !authorization.startsWith('Bearer ')) {
      c.missing++;
      return 'missing';
    }
    const exp = this.#expiry.get(authorization.slice(7));
    if (exp === undefined) {
      c.unknown++;
      return 'unknown';
    }
    if (now >= exp) {
      c.expired++;
      if (now - exp > c.maxExpiredLateMs) c.maxExpiredLateMs = now - exp;
      return 'expired';
    }
    c.ok++;
    return 'ok';
  }

  counts(): LedgerCounts {
    return { ...this.#counts };
  }
}

export function emptyCounts(): LedgerCounts {
  return { checked: 0, ok: 0, missing: 0, unknown: 0, expired: 0, maxExpiredLateMs: 0 };
}

/** What happened between two snapshots (maxExpiredLateMs: the later snapshot's, if it grew). */
export function countsBetween(before: LedgerCounts, after: LedgerCounts): LedgerCounts {
  return {
    checked: after.checked - before.checked,
    ok: after.ok - before.ok,
    missing: after.missing - before.missing,
    unknown: after.unknown - before.unknown,
    expired: after.expired - before.expired,
    maxExpiredLateMs: after.expired > before.expired ? after.maxExpiredLateMs : 0,
  };
}
