import type { DsnConfig } from '../../config/dsn.js';
import type * as RedisStoreExports from './redis-store.js';
import { parseRedisUrl } from './redis-url.js';
import type { StoredTokens, TokenStore } from './token-store.js';

type RedisStoreModule = typeof RedisStoreExports;

let loaded: Promise<RedisStoreModule> | undefined;
const loadRedisStore = (): Promise<RedisStoreModule> => (loaded ??= import('./redis-store.js'));

/**
 * A Redis token store whose client library (ioredis, about 25 MB resident) is loaded on first use,
 * so the many installations that keep tokens in a file never pay for it. The URL is still checked
 * at once: a bad TokenStore fails at startup with its ConfigError.
 */
export class LazyRedisTokenStore implements TokenStore {
  readonly description: string;
  readonly #dsn: Pick<DsnConfig, 'name' | 'tokenStore' | 'headersTimeoutSeconds'>;
  #store: Promise<TokenStore> | undefined;

  constructor(dsn: Pick<DsnConfig, 'name' | 'tokenStore' | 'headersTimeoutSeconds'>) {
    this.#dsn = dsn;
    this.description = parseRedisUrl(dsn.tokenStore?.trim() ?? '', dsn.name).description;
  }

  #open(): Promise<TokenStore> {
    return (this.#store ??= loadRedisStore().then((m) => m.openRedisTokenStore(this.#dsn)));
  }

  async load(key: string): Promise<StoredTokens | undefined> {
    return (await this.#open()).load(key);
  }

  async save(key: string, tokens: StoredTokens): Promise<void> {
    return (await this.#open()).save(key, tokens);
  }

  async withRefreshLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return (await this.#open()).withRefreshLock(key, fn);
  }

  async ping(): Promise<void> {
    const store = await this.#open();
    await store.ping?.();
  }

  async close(): Promise<void> {
    if (this.#store) await (await this.#store).close();
  }
}

/** Closes every Redis store the process opened (their sockets keep it alive); cheap when none. */
export async function closeRedisTokenStoresIfLoaded(): Promise<void> {
  if (loaded) await (await loaded).closeRedisTokenStores();
}
