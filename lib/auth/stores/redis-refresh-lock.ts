import { randomBytes } from 'node:crypto';

import { RefreshLockTimeoutError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import type { RedisConnection } from './redis-connection.js';

export interface RefreshLockTimings {
  /** how long a holder keeps the lock without renewing it: a dead holder blocks others this long */
  readonly ttlMs: number;
  /** a live holder renews this often (well under ttlMs, so one slow renewal does not lose it) */
  readonly renewEveryMs: number;
  /** how long a waiter waits for a live holder before giving up */
  readonly waitMs: number;
  /** a waiter re-tries this often even when no release notification arrives */
  readonly pollMs: number;
}

// Owner-only: a holder whose lock expired and was taken by another must not delete the new one.
const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('publish', ARGV[2], 'released')
  return 1
end
return 0`;

// Idempotent, so a re-send after a dropped connection finds the lock it may already have taken.
const ACQUIRE = `
if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  return 1
end
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
return 0`;

const RENEW = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0`;

/**
 * The single-redeemer lock (a rotating refresh token is redeemed by one instance at a time): SET
 * NX PX with a random value, renewed while the refresh runs (oauth2-proxy lost sessions when a slow
 * IdP outlived a fixed 2 s lock: PR #1580, #3456), released by its owner with a publish so
 * waiters go at once instead of at their next poll.
 */
export class RedisRefreshLock {
  readonly #conn: RedisConnection;
  readonly #timings: RefreshLockTimings;
  readonly #dsn: string | undefined;
  readonly #log: Logger;
  /** owner-checked releases of timed-out lock requests not sent yet, by lock key and owner */
  readonly #abandoned = new Map<string, () => Promise<unknown>>();

  constructor(
    conn: RedisConnection,
    timings: RefreshLockTimings,
    opts: { dsn?: string; logger?: Logger } = {},
  ) {
    this.#conn = conn;
    this.#timings = timings;
    this.#dsn = opts.dsn;
    this.#log = (opts.logger ?? silentLogger).child({ component: 'redis-refresh-lock' });
    conn.onReady(() => this.#sendAbandonedReleases());
  }

  /** Waits for the lock (bounded), runs `fn` holding it, releases it. */
  async run<T>(lockKey: string, releaseChannel: string, fn: () => Promise<T>): Promise<T> {
    const owner = randomBytes(16).toString('hex');
    try {
      await this.#acquire(lockKey, releaseChannel, owner);
    } catch (e) {
      this.#releaseAbandoned(lockKey, owner, releaseChannel);
      throw e;
    }
    let lost = false;
    const renewal = setInterval(() => {
      this.#conn
        .command('renew the refresh lock', (c) =>
          c.eval(RENEW, 1, lockKey, owner, String(this.#timings.ttlMs)),
        )
        .then((renewed) => {
          if (renewed === 0 && !lost) {
            lost = true;
            this.#log.warn(
              { lockKey },
              'the refresh lock expired while this instance held it; another instance may refresh too',
            );
          }
        })
        .catch((err: Error) =>
          this.#log.warn({ err: err.message }, 'could not renew the refresh lock'),
        );
    }, this.#timings.renewEveryMs);
    renewal.unref();
    try {
      return await fn();
    } finally {
      clearInterval(renewal);
      await this.#conn
        .command('release the refresh lock', (c) =>
          c.eval(RELEASE, 1, lockKey, owner, releaseChannel),
        )
        .catch((err: Error) =>
          this.#log.warn(
            { err: err.message },
            `could not release the refresh lock; it expires by itself within ${this.#timings.ttlMs} ms`,
          ),
        );
    }
  }

  /**
   * A lock request that timed out may still run: a paused Redis (SIGSTOP, a frozen VM) executes
   * what was sent to it when it resumes, and would then hold a lock for an owner that gave up,
   * blocking every instance for the TTL. The owner-checked release, sent on the same connection,
   * runs right after it. If it cannot even be sent, it is sent again on the next connection.
   */
  #releaseAbandoned(lockKey: string, owner: string, releaseChannel: string): void {
    const release = (): Promise<unknown> =>
      this.#conn.command('release an abandoned lock request', (c) =>
        c.eval(RELEASE, 1, lockKey, owner, releaseChannel),
      );
    release().catch(() => {
      const pending = `${lockKey}\n${owner}`;
      if (this.#abandoned.has(pending)) return;
      this.#abandoned.set(pending, release);
      this.#log.warn(
        { lockKey },
        `a lock request timed out; its release is sent when Redis answers again (else the lock expires within ${this.#timings.ttlMs} ms)`,
      );
    });
  }

  #sendAbandonedReleases(): void {
    for (const [pending, release] of this.#abandoned) {
      release().then(
        () => this.#abandoned.delete(pending),
        () => undefined,
      );
    }
  }

  async #acquire(lockKey: string, releaseChannel: string, owner: string): Promise<void> {
    const started = Date.now();
    let subscribed = false;
    for (;;) {
      const taken = await this.#conn.command(
        'take the refresh lock to redeem the refresh token',
        (c) => c.eval(ACQUIRE, 1, lockKey, owner, String(this.#timings.ttlMs)),
      );
      if (taken === 1) return;
      if (!subscribed) {
        // subscribe, then try again at once: a release between the attempt and the
        // subscription would otherwise cost a whole poll interval
        subscribed = true;
        await this.#conn.subscribe(releaseChannel);
        continue;
      }
      const waited = Date.now() - started;
      if (waited >= this.#timings.waitMs) {
        throw new RefreshLockTimeoutError({
          ...(this.#dsn === undefined ? {} : { dsn: this.#dsn }),
          store: this.#conn.description,
          waitedMs: waited,
        });
      }
      await this.#conn.waitForMessage(
        releaseChannel,
        Math.min(this.#timings.pollMs, this.#timings.waitMs - waited),
      );
    }
  }
}
