/**
 * Where tokens outlive the process. The refresh token is the precious part: a rotated one that is
 * lost locks the DSN out until a person logs in again.
 */
export interface StoredTokens {
  readonly refreshToken?: string;
  /**
   * SHA-256 (hex) of the config file's RefreshToken when this entry was written: if the config's
   * value changes later, the user pasted a new one and it wins over the stored token.
   */
  readonly configRefreshTokenHash?: string;
  /**
   * SHA-256 (hex) of the config's OAuthCode once it has been exchanged (AuthenticationMethod=51):
   * authorization codes are single-use, so a restart must not send the same one again.
   */
  readonly configOAuthCodeHash?: string;
  /**
   * SHA-256 (hex) of what the access token was requested with (token endpoint, client, grant,
   * scope, params): a stored access token is reused only by a DSN that would ask for the same.
   */
  readonly configFingerprint?: string;
  /**
   * epoch ms: `tokenshim logout` ended this lineage (the entry then holds no token). Neither the
   * config's RefreshToken it descends from nor a token held in memory is redeemed again; a login
   * or a new RefreshToken in the config starts over.
   */
  readonly loggedOutAt?: number;
  readonly accessToken?: string;
  readonly tokenType?: string;
  /** epoch ms */
  readonly expiresAt?: number;
  /** epoch ms */
  readonly updatedAt: number;
}

/**
 * True when `value` has the shape of a StoredTokens (what another program, a hand edit or a torn
 * copy might have left is not): the fields tokenshim reads have the types it reads them as.
 */
export function isStoredTokens(value: unknown): value is StoredTokens {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const optional = (name: string, type: 'string' | 'number'): boolean =>
    v[name] === undefined || typeof v[name] === type;
  return (
    typeof v['updatedAt'] === 'number' &&
    optional('expiresAt', 'number') &&
    [
      'refreshToken',
      'accessToken',
      'tokenType',
      'configRefreshTokenHash',
      'configOAuthCodeHash',
      'configFingerprint',
    ].every((name) => optional(name, 'string'))
  );
}

export interface TokenStore {
  /** where the tokens live, safe to print (no password) */
  readonly description: string;
  load(key: string): Promise<StoredTokens | undefined>;
  /** durable when it resolves (file: temp + fsync + rename; redis: acknowledged write) */
  save(key: string, tokens: StoredTokens): Promise<void>;
  /**
   * Runs `fn` while holding the refresh lock for `key`, so one refresher at a time (one process:
   * an in-process mutex; several: a shared lock) redeems a refresh token.
   */
  withRefreshLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Calls `listener` when `key`'s entry may have been written by someone else (another process,
   * `tokenshim token --force`, another instance): a hint to read it again, never a promise that
   * it changed. Returns the function that stops it. Optional: a store that cannot tell (memory)
   * has no other writers.
   */
  watch?(key: string, listener: () => void): () => void;
  /**
   * One round trip to where the tokens live, for `tokenshim check`; rejects with a TokenshimError
   * saying why it is unreachable. Optional: a store without it (memory) is always reachable.
   */
  ping?(): Promise<void>;
  close(): Promise<void>;
}
