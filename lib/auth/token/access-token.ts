import type { TokenSet } from '../token-endpoint.js';

/**
 * An access token tokenshim may attach: what a token response says about the token itself,
 * without the refresh token and scope that came with it (those belong to the lineage).
 */
export type AccessToken = Pick<TokenSet, 'accessToken' | 'tokenType' | 'expiresAt' | 'obtainedAt'>;

export function accessTokenOf(set: TokenSet): AccessToken {
  return {
    accessToken: set.accessToken,
    tokenType: set.tokenType,
    expiresAt: set.expiresAt,
    obtainedAt: set.obtainedAt,
  };
}

/** seconds from sending the request to expiry, for events and logs */
export function lifetimeSeconds(token: AccessToken): number {
  return Math.round((token.expiresAt - token.obtainedAt) / 1000);
}
