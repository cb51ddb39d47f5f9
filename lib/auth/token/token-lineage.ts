/**
 * Which refresh token a DSN lives on, and how that relates to the token store: what to take from
 * a stored entry and what to write back. No I/O: the manager reads and writes the store and asks
 * this class what to make of it (test/auth/token/token-lineage.test.ts runs the rules as a table).
 */
import { createHash } from 'node:crypto';
import type { DsnConfig } from '../../config/dsn.js';
import type { StoredTokens } from '../stores/token-store.js';
import type { TokenSet } from '../token-endpoint.js';
import type { AccessToken } from './access-token.js';

/** rejected tokens remembered so a stale copy in the store is not taken back */
const INVALIDATED_REMEMBERED = 8;

/**
 * - At start the stored refresh token wins over the config's RefreshToken, unless the config's
 *   value changed since the entry was written (the user pasted a new one): every entry remembers
 *   a hash of the config value it descends from.
 * - Later, a stored refresh token replaces the one held only if it is at least as new, so a
 *   stale file left by a failed save cannot bring back a spent token.
 * - A chain that started from a RefreshToken the config no longer has is never resumed: not at
 *   start, not under the lock, not after a refusal, and its access tokens are not adopted either
 *   (a reload that replaced RefreshToken must not go on with the replaced credential).
 * - A stored access token is reused only if it was requested the same way (endpoint, client,
 *   grant, scope, params, user: the fingerprint) and the upstream has not rejected it here; a
 *   rejected one is dropped from the entry, so a restart does not load it again.
 * - An OAuthCode is single-use: once exchanged, the entry says so and a restart does not send it
 *   again.
 * - An entry written by `tokenshim logout` ends the lineage: no refresh token is redeemed, neither
 *   the config's it descends from nor one held in memory, until a login stores a new one.
 */
export class TokenLineage {
  readonly #configRefreshTokenHash: string | undefined;
  readonly #configOAuthCodeHash: string | undefined;
  readonly #fingerprint: string;
  #refreshToken: string | undefined;
  /** when #refreshToken was obtained (epoch ms; 0 for the config's) */
  #refreshTokenSince = 0;
  #oauthCodeUsed = false;
  #loggedOut = false;
  readonly #invalidated: string[] = [];

  constructor(dsn: DsnConfig, grantType: string, user: string | undefined) {
    this.#refreshToken = dsn.refreshToken;
    this.#configRefreshTokenHash = dsn.refreshToken ? sha256(dsn.refreshToken) : undefined;
    this.#configOAuthCodeHash = dsn.oauthCode ? sha256(dsn.oauthCode) : undefined;
    this.#fingerprint = sha256(
      JSON.stringify([
        dsn.tokenEndpoint?.method,
        dsn.tokenEndpoint?.url.href,
        dsn.clientId,
        grantType,
        dsn.scope,
        dsn.tokenParams,
        dsn.tokenRequestFormat,
        user,
      ]),
    );
  }

  /** the refresh token the next refresh redeems */
  get refreshToken(): string | undefined {
    return this.#refreshToken;
  }

  /** the config's OAuthCode was exchanged already */
  get oauthCodeUsed(): boolean {
    return this.#oauthCodeUsed;
  }

  /** `tokenshim logout` ended the lineage; no refresh token is held since */
  get loggedOut(): boolean {
    return this.#loggedOut;
  }

  /**
   * At start, with what the store holds. True when the entry descends from the config as it is
   * now, so its access token may be adopted too.
   */
  start(stored: StoredTokens | undefined): boolean {
    this.#oauthCodeUsed =
      this.#configOAuthCodeHash !== undefined &&
      stored?.configOAuthCodeHash === this.#configOAuthCodeHash;
    if (!stored) return false;
    const descends = this.#descendsFromConfig(stored);
    if (descends && stored.refreshToken) this.#take(stored.refreshToken, stored.updatedAt);
    if (descends && isLogout(stored)) this.#logOut(stored.updatedAt);
    return descends;
  }

  /** Under the refresh lock: another process or instance may have refreshed and stored a newer one. */
  adoptIfNewer(stored: StoredTokens | undefined): void {
    if (
      stored !== undefined &&
      isLogout(stored) &&
      this.#descendsFromConfig(stored) &&
      stored.updatedAt >= this.#refreshTokenSince
    ) {
      this.#logOut(stored.updatedAt);
      return;
    }
    if (
      stored?.refreshToken &&
      this.#descendsFromConfig(stored) &&
      stored.updatedAt >= this.#refreshTokenSince
    ) {
      this.#take(stored.refreshToken, stored.updatedAt);
    }
  }

  /**
   * After a refusal: a stored refresh token other than the one refused came from `tokenshim login`
   * or from an instance that won the race, so it is adopted whatever its age, as long as it
   * descends from the config as it is now. Returns the refresh token adopted, if any.
   */
  adoptIfDifferent(stored: StoredTokens | undefined): string | undefined {
    if (!stored?.refreshToken || stored.refreshToken === this.#refreshToken) return undefined;
    if (!this.#descendsFromConfig(stored)) return undefined;
    this.#take(stored.refreshToken, stored.updatedAt);
    return stored.refreshToken;
  }

  /**
   * A token response came: its refresh token (if any) replaces the one held. `spentOAuthCode`
   * when the request exchanged the config's OAuthCode. True when the refresh token rotated.
   */
  received(set: TokenSet, spentOAuthCode: boolean): boolean {
    const rotated = set.refreshToken !== undefined && set.refreshToken !== this.#refreshToken;
    if (set.refreshToken !== undefined) this.#take(set.refreshToken, set.obtainedAt);
    if (spentOAuthCode) this.#oauthCodeUsed = true;
    return rotated;
  }

  /** The store entry for `token`: the refresh token held and what it descends from. */
  entryFor(token: AccessToken): StoredTokens {
    return {
      ...(this.#refreshToken === undefined ? {} : { refreshToken: this.#refreshToken }),
      ...(this.#configRefreshTokenHash === undefined
        ? {}
        : { configRefreshTokenHash: this.#configRefreshTokenHash }),
      ...(this.#oauthCodeUsed && this.#configOAuthCodeHash
        ? { configOAuthCodeHash: this.#configOAuthCodeHash }
        : {}),
      configFingerprint: this.#fingerprint,
      accessToken: token.accessToken,
      tokenType: token.tokenType,
      expiresAt: token.expiresAt,
      updatedAt: token.obtainedAt,
    };
  }

  /**
   * The stored access token, if it was requested the same way and not rejected here. Whether it
   * has life enough left is the caller's judgement (token-timing.ts).
   */
  storedAccessToken(stored: StoredTokens): AccessToken | undefined {
    if (
      !stored.accessToken ||
      stored.expiresAt === undefined ||
      stored.configFingerprint !== this.#fingerprint ||
      !this.#descendsFromConfig(stored) ||
      this.#invalidated.includes(stored.accessToken)
    ) {
      return undefined;
    }
    return {
      accessToken: stored.accessToken,
      tokenType: stored.tokenType ?? 'Bearer',
      expiresAt: stored.expiresAt,
      obtainedAt: Math.min(stored.updatedAt, stored.expiresAt),
    };
  }

  /**
   * The entry to write back when `stored` holds an access token the upstream rejected here: the
   * same entry without it (refresh token and origin kept). Undefined when there is nothing to drop.
   */
  withoutRejected(stored: StoredTokens | undefined): StoredTokens | undefined {
    if (stored?.accessToken === undefined || !this.#invalidated.includes(stored.accessToken)) {
      return undefined;
    }
    const { accessToken: _a, tokenType: _t, expiresAt: _e, ...rest } = stored;
    return rest;
  }

  /** The upstream rejected `accessToken`: a copy of it in the store is never taken back. */
  invalidate(accessToken: string): void {
    if (this.#invalidated.includes(accessToken)) return;
    this.#invalidated.push(accessToken);
    if (this.#invalidated.length > INVALIDATED_REMEMBERED) this.#invalidated.shift();
  }

  #descendsFromConfig(stored: StoredTokens): boolean {
    return stored.configRefreshTokenHash === this.#configRefreshTokenHash;
  }

  #take(refreshToken: string, since: number): void {
    this.#refreshToken = refreshToken;
    this.#refreshTokenSince = since;
    this.#loggedOut = false;
  }

  #logOut(since: number): void {
    this.#refreshToken = undefined;
    this.#refreshTokenSince = since;
    this.#loggedOut = true;
  }
}

/** An entry `tokenshim logout` wrote: the lineage's end, holding no refresh token. */
function isLogout(stored: StoredTokens): boolean {
  return stored.loggedOutAt !== undefined && stored.refreshToken === undefined;
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
