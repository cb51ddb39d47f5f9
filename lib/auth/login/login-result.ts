import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { DsnConfig } from '../../config/dsn.js';
import { CODES, LoginError } from '../../errors.js';
import type { StoredTokens, TokenStore } from '../stores/token-store.js';
import type { TokenSet } from '../token-endpoint.js';

/** What a login ended with, for the person who ran it. */
export interface LoginResult {
  /** the store's description (never a password) */
  readonly store: string;
  /** epoch ms: when the access token that came with the login expires */
  readonly accessTokenExpiresAt: number;
  /** the scope the provider granted, when it said */
  readonly scope?: string;
}

/**
 * Every login (browser, pasted, device) ends here: the refresh token goes into the DSN's token
 * store, under its refresh lock, where the proxy and `tokenshim token` find it. A running proxy
 * whose DSN needed a login notices it by itself.
 */
export async function saveLogin(
  dsn: DsnConfig,
  store: TokenStore,
  tokens: TokenSet,
  clock: Clock,
): Promise<LoginResult> {
  if (!tokens.refreshToken) {
    throw new LoginError(
      dsn.name,
      'the login worked, but the provider issued no refresh token, so tokenshim could not keep the ' +
        'DSN logged in. Ask for one: add offline_access to Scope (OpenID Connect providers), or the ' +
        "provider's own switch in AuthURI (Google: access_type=offline&prompt=consent), then log in again.",
      { code: CODES.LOGIN_NO_REFRESH_TOKEN },
    );
  }
  const entry: StoredTokens = {
    refreshToken: tokens.refreshToken,
    // the token manager adopts a stored refresh token only if the config's has not changed since
    ...(dsn.refreshToken ? { configRefreshTokenHash: sha256(dsn.refreshToken) } : {}),
    // an OAuthCode in the config is superseded by this login: it must not be redeemed later
    ...(dsn.oauthCode ? { configOAuthCodeHash: sha256(dsn.oauthCode) } : {}),
    updatedAt: clock.now(),
  };
  await store.withRefreshLock(dsn.tokenStoreKey, () => store.save(dsn.tokenStoreKey, entry));
  return {
    store: store.description,
    accessTokenExpiresAt: tokens.expiresAt,
    ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
  };
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
