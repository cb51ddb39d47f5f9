import type { Grant } from './grant.js';

/**
 * RFC 6749 6: redeem a refresh token. Scope is added by the request builder (re-sent on purpose).
 * Some providers redeem refresh tokens at an endpoint of their own (RefreshTokenURI).
 */
export function refreshTokenGrant(refreshToken: string): Grant {
  return {
    grantType: 'refresh_token',
    params: async () => [
      ['grant_type', 'refresh_token'],
      ['refresh_token', refreshToken],
    ],
    endpoint: (dsn) => dsn.refreshTokenEndpoint,
  };
}
