import { KeyedMutex } from './keyed-mutex.js';
import type { StoredTokens, TokenStore } from './token-store.js';

/** Tokens kept only for the life of the process (tests, and DSNs that opt out of persistence). */
export class MemoryTokenStore implements TokenStore {
  readonly description = 'memory (not persisted)';
  readonly #entries = new Map<string, StoredTokens>();
  readonly #locks = new KeyedMutex();
  /** how many times save() ran, for tests */
  saves = 0;

  async load(key: string): Promise<StoredTokens | undefined> {
    return this.#entries.get(key);
  }

  async save(key: string, tokens: StoredTokens): Promise<void> {
    this.saves++;
    this.#entries.set(key, { ...tokens });
  }

  withRefreshLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#locks.run(key, fn);
  }

  async close(): Promise<void> {}
}
