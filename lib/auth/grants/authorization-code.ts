import { ConfigError } from '../../errors.js';
import type { Grant } from './grant.js';

/**
 * RFC 6749 4.1.3 (AuthenticationMethod=51): exchange OAuthCode, once. Codes are single-use, so
 * the token manager lives on the refresh token afterwards and never sends the same code twice.
 */
export const authorizationCodeGrant: Grant = {
  grantType: 'authorization_code',
  params: async ({ dsn }) => {
    if (!dsn.oauthCode) {
      throw new ConfigError(
        `DSN "${dsn.name}": AuthenticationMethod=51 needs OAuthCode (the code from the authorization redirect) or a RefreshToken.`,
      );
    }
    return [
      ['grant_type', 'authorization_code'],
      ['code', dsn.oauthCode],
      // RFC 6749 4.1.3: required when the authorization request had one, which DataDirect's does
      ...(dsn.redirectUri ? ([['redirect_uri', dsn.redirectUri.href]] as [string, string][]) : []),
    ];
  },
};
