import { OPTION } from '../catalogue.js';
import type { DsnConfig } from '../dsn.js';
import type { OptionReader } from '../option-reader.js';

export type CredentialOptions = Pick<
  DsnConfig,
  | 'refreshToken'
  | 'accessToken'
  | 'oauthCode'
  | 'securityToken'
  | 'user'
  | 'password'
  | 'claimsIssuer'
  | 'claimsSubject'
  | 'jwtPrivateKeyFile'
  | 'jwtCertStore'
  | 'jwtCertPassword'
  | 'jwtCertAlias'
  | 'jwtAlgorithm'
  | 'authUri'
  | 'redirectUri'
  | 'deviceAuthUri'
>;

/**
 * What the DSN proves itself with: static tokens, a user and password, a JWT bearer's claims and
 * key, and the endpoints of the logins (browser, pasted, device) that get a refresh token.
 */
export function resolveCredentials(options: OptionReader): CredentialOptions {
  return {
    refreshToken: options.value(OPTION.RefreshToken),
    accessToken: options.value(OPTION.AccessToken),
    oauthCode: options.value(OPTION.OAuthCode),
    securityToken: options.value(OPTION.SecurityToken),
    user: options.value(OPTION.User),
    password: options.value(OPTION.Password),
    claimsIssuer: options.value(OPTION.ClaimsIssuer),
    claimsSubject: options.value(OPTION.ClaimsSubject),
    jwtPrivateKeyFile: options.value(OPTION.JWTPrivateKeyFile),
    jwtCertStore: options.value(OPTION.JWTCertStore),
    jwtCertPassword: options.value(OPTION.JWTCertPassword),
    jwtCertAlias: options.value(OPTION.JWTCertAlias),
    jwtAlgorithm: options.value(OPTION.JWTAlgorithm),
    authUri: options.value(OPTION.AuthURI),
    redirectUri: options.value(OPTION.RedirectURI),
    deviceAuthUri: options.value(OPTION.DeviceAuthURI),
  };
}
