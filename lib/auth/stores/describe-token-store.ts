import type { TokenStore } from './token-store.js';

export interface TokenStoreHealth {
  /** where the tokens live, safe to print */
  readonly description: string;
  readonly reachable: boolean;
  /** why it is not reachable (a TokenshimError message: names the store, never its password) */
  readonly error?: string;
}

/** What `tokenshim check` prints for a DSN's token store. Never throws. */
export async function describeTokenStore(store: TokenStore): Promise<TokenStoreHealth> {
  try {
    await store.ping?.();
    return { description: store.description, reachable: true };
  } catch (err) {
    return {
      description: store.description,
      reachable: false,
      error: err instanceof Error ? err.message : String(err),
    };
  }
}
