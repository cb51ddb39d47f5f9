import type { RedisOptions } from 'ioredis';

import type { DsnConfig } from '../../config/dsn.js';
import { TokenStoreDataError, TokenStoreUnavailableError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { KeyedMutex } from './keyed-mutex.js';
import { RedisConnection } from './redis-connection.js';
import { RedisRefreshLock, type RefreshLockTimings } from './redis-refresh-lock.js';
import { parseRedisUrl } from './redis-url.js';
import { isStoredTokens, type StoredTokens, type TokenStore } from './token-store.js';

export interface RedisTokenStoreOptions {
  /** the DSN this store serves, named in errors */
  dsn?: string;
  /** prefix of every key and channel; default `tokenshim:` */
  keyPrefix?: string;
  /** see RefreshLockTimings; defaults in REDIS_STORE_DEFAULTS */
  lockTtlMs?: number;
  lockRenewEveryMs?: number;
  lockWaitMs?: number;
  lockPollMs?: number;
  /** how long a command waits for a connection and for its reply */
  commandTimeoutMs?: number;
  /** how long save() keeps trying while Redis is away before it gives up (and keeps the tokens to write back) */
  saveRetryMs?: number;
  logger?: Logger;
  /** extra ioredis options, merged last */
  redisOptions?: RedisOptions;
}

export const REDIS_STORE_DEFAULTS = Object.freeze({
  keyPrefix: 'tokenshim:',
  // long enough for a slow token endpoint between renewals; a dead holder blocks others this long
  lockTtlMs: 15_000,
  lockWaitMs: 30_000,
  lockPollMs: 250,
  commandTimeoutMs: 2_000,
  saveRetryMs: 10_000,
});

// Written back after a reconnect when Redis lost the entry (restarted without persistence) or
// holds an older one (restored from an old snapshot). Never replaces a newer entry.
const WRITE_BACK = `
local current = redis.call('get', KEYS[1])
if current then
  local ok, stored = pcall(cjson.decode, current)
  if ok and type(stored) == 'table' and tonumber(stored.updatedAt)
     and tonumber(stored.updatedAt) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('set', KEYS[1], ARGV[1])
return 1`;

/**
 * Tokens shared by several tokenshim instances (Qlik nodes sharing one rotating refresh token):
 * `TokenStore=redis://host:6379/0`.
 * Entries are JSON strings under `<prefix>tokens:<TokenStoreKey>`; the refresh lock is
 * `<prefix>lock:<key>` and its release is announced on `<prefix>released:<key>`.
 */
export class RedisTokenStore implements TokenStore {
  readonly description: string;
  readonly #conn: RedisConnection;
  readonly #lock: RedisRefreshLock;
  readonly #prefix: string;
  readonly #dsn: string | undefined;
  readonly #saveRetryMs: number;
  readonly #log: Logger;
  /** the newest entry this instance has seen per key: what it writes back after an outage */
  readonly #newest = new Map<string, StoredTokens>();
  /** one refresher per key inside this process before competing with other processes */
  readonly #localLock = new KeyedMutex();

  /** Throws ConfigError for a malformed URL; connects in the background. */
  constructor(url: string, opts: RedisTokenStoreOptions = {}) {
    const location = parseRedisUrl(url, opts.dsn);
    this.description = location.description;
    this.#dsn = opts.dsn;
    this.#prefix = opts.keyPrefix ?? REDIS_STORE_DEFAULTS.keyPrefix;
    this.#saveRetryMs = opts.saveRetryMs ?? REDIS_STORE_DEFAULTS.saveRetryMs;
    this.#log = (opts.logger ?? silentLogger).child({
      component: 'redis-token-store',
      store: this.description,
    });
    this.#conn = new RedisConnection(location, {
      ...(opts.dsn === undefined ? {} : { dsn: opts.dsn }),
      ...(opts.logger === undefined ? {} : { logger: opts.logger }),
      ...(opts.redisOptions === undefined ? {} : { redisOptions: opts.redisOptions }),
      commandTimeoutMs: opts.commandTimeoutMs ?? REDIS_STORE_DEFAULTS.commandTimeoutMs,
    });
    const ttlMs = opts.lockTtlMs ?? REDIS_STORE_DEFAULTS.lockTtlMs;
    const timings: RefreshLockTimings = {
      ttlMs,
      renewEveryMs: opts.lockRenewEveryMs ?? Math.max(1, Math.floor(ttlMs / 3)),
      waitMs: opts.lockWaitMs ?? REDIS_STORE_DEFAULTS.lockWaitMs,
      pollMs: opts.lockPollMs ?? REDIS_STORE_DEFAULTS.lockPollMs,
    };
    this.#lock = new RedisRefreshLock(this.#conn, timings, {
      ...(opts.dsn === undefined ? {} : { dsn: opts.dsn }),
      ...(opts.logger === undefined ? {} : { logger: opts.logger }),
    });
    this.#conn.onReady(() => void this.#writeBack());
  }

  /** the Redis key holding `key`'s tokens (for operators: `redis-cli GET`) */
  tokensKey(key: string): string {
    return `${this.#prefix}tokens:${key}`;
  }

  lockKey(key: string): string {
    return `${this.#prefix}lock:${key}`;
  }

  async load(key: string): Promise<StoredTokens | undefined> {
    const raw = await this.#conn.command('read the shared tokens', (c) =>
      c.get(this.tokensKey(key)),
    );
    if (raw === null) return undefined;
    const known = this.#newest.get(key);
    const tokens = this.#parse(raw);
    if (tokens === undefined) {
      // damaged while this instance ran: what it holds is the newest there is
      if (known) return this.#repair(key, known);
      throw this.#damaged(key);
    }
    if (!known || known.updatedAt <= tokens.updatedAt) this.#newest.set(key, tokens);
    return tokens;
  }

  /**
   * Resolves once Redis acknowledged the write. While Redis is away it keeps trying for
   * saveRetryMs; if it still fails it rejects, and the tokens are written back on reconnect
   * (a rotated refresh token must not be lost to an outage).
   */
  async save(key: string, tokens: StoredTokens): Promise<void> {
    this.#newest.set(key, tokens);
    const body = JSON.stringify(tokens);
    const deadline = Date.now() + this.#saveRetryMs;
    for (;;) {
      try {
        await this.#conn.command('save the refreshed tokens', (c) =>
          c.set(this.tokensKey(key), body),
        );
        return;
      } catch (err) {
        const left = deadline - Date.now();
        if (!(err instanceof TokenStoreUnavailableError) || left <= 0) throw err;
        this.#log.warn({ err: err.message }, 'could not save tokens to Redis yet; retrying');
        await this.#conn.waitUntilReady('save the refreshed tokens', left).catch(() => undefined);
      }
    }
  }

  withRefreshLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#localLock.run(key, () =>
      this.#lock.run(this.lockKey(key), `${this.#prefix}released:${key}`, fn),
    );
  }

  /** Round trip to Redis, for `tokenshim check`; rejects with TokenStoreUnavailableError. */
  async ping(): Promise<void> {
    await this.#conn.command('reach the token store', (c) => c.ping());
  }

  async close(): Promise<void> {
    for (const [cacheKey, store] of openStores) if (store === this) openStores.delete(cacheKey);
    await this.#conn.close();
  }

  #parse(raw: string): StoredTokens | undefined {
    try {
      const value: unknown = JSON.parse(raw);
      return isStoredTokens(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  #damaged(key: string): TokenStoreDataError {
    // the raw value may hold tokens: say where it is, never what it is
    return new TokenStoreDataError(
      `${this.#dsn === undefined ? 'tokenshim' : `DSN "${this.#dsn}"`} cannot use the entry ` +
        `${this.tokensKey(key)} in ${this.description}: it is not tokenshim's token JSON. ` +
        `Delete it (redis-cli DEL ${this.tokensKey(key)}) so tokenshim starts from the config's ` +
        'RefreshToken, or point TokenStoreKey at another key.',
      this.#dsn === undefined ? {} : { dsn: this.#dsn },
    );
  }

  /** Writes `known` over a damaged entry (the write-back script replaces what it cannot read). */
  async #repair(key: string, known: StoredTokens): Promise<StoredTokens> {
    this.#log.error(
      { key, event: 'token_store_repaired' },
      'the shared token entry was damaged; it is written again from the tokens this instance holds',
    );
    await this.#conn
      .command('rewrite the damaged token entry', (c) =>
        c.eval(WRITE_BACK, 1, this.tokensKey(key), JSON.stringify(known), String(known.updatedAt)),
      )
      .catch((err: Error) =>
        this.#log.warn({ err: err.message }, 'could not rewrite the damaged token entry yet'),
      );
    return known;
  }

  async #writeBack(): Promise<void> {
    for (const [key, tokens] of this.#newest) {
      try {
        const written = await this.#conn.command('write back the newest tokens', (c) =>
          c.eval(
            WRITE_BACK,
            1,
            this.tokensKey(key),
            JSON.stringify(tokens),
            String(tokens.updatedAt),
          ),
        );
        if (written === 1) {
          this.#log.warn(
            { key },
            'Redis had lost or held older tokens for this key; wrote back the newest',
          );
        }
      } catch (err) {
        this.#log.warn(
          { err: (err as Error).message },
          'could not write back tokens after reconnecting',
        );
      }
    }
  }
}

/** One RedisTokenStore (two connections) per DSN and URL in a process; see closeRedisTokenStores. */
const openStores = new Map<string, RedisTokenStore>();

/**
 * The store for a DSN whose TokenStore is a redis:// or rediss:// URL. Throws ConfigError for a
 * malformed URL. A waiter waits at least as long as the holder's token request may take.
 */
export function openRedisTokenStore(
  dsn: Pick<DsnConfig, 'name' | 'tokenStore' | 'headersTimeoutSeconds'>,
  opts: Pick<RedisTokenStoreOptions, 'logger'> = {},
): RedisTokenStore {
  const url = dsn.tokenStore?.trim() ?? '';
  const cacheKey = `${dsn.name}\n${url}`;
  let store = openStores.get(cacheKey);
  if (!store) {
    store = new RedisTokenStore(url, {
      dsn: dsn.name,
      lockWaitMs: Math.max(
        REDIS_STORE_DEFAULTS.lockWaitMs,
        dsn.headersTimeoutSeconds * 1000 + 5_000,
      ),
      ...opts,
    });
    openStores.set(cacheKey, store);
  }
  return store;
}

/** Closes every store openRedisTokenStore opened: their sockets keep the process alive. */
export async function closeRedisTokenStores(): Promise<void> {
  const stores = [...openStores.values()];
  openStores.clear();
  await Promise.all(stores.map((s) => s.close()));
}
