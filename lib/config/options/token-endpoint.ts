import { OPTION } from '../catalogue.js';
import type { DsnConfig } from '../dsn.js';
import type { OptionReader } from '../option-reader.js';

export type TokenEndpointOptions = Pick<
  DsnConfig,
  | 'tokenEndpoint'
  | 'refreshTokenEndpoint'
  | 'revokeUri'
  | 'tokenRequestFormat'
  | 'tokenParams'
  | 'clientId'
  | 'clientSecret'
  | 'clientCredentialsMode'
  | 'scope'
>;

/** Where tokens come from (and go back to, revoked), and what every token request carries. */
export function resolveTokenEndpoint(options: OptionReader): TokenEndpointOptions {
  const tokenEndpoint = options.value(OPTION.TokenURI);
  const refresh = options.value(OPTION.RefreshTokenURI);
  return {
    tokenEndpoint,
    refreshTokenEndpoint: refresh && {
      method: refresh.method ?? tokenEndpoint?.method ?? 'GET',
      url: refresh.url,
    },
    revokeUri: options.value(OPTION.RevokeURI),
    tokenRequestFormat: options.value(OPTION.TokenRequestFormat),
    tokenParams: options.value(OPTION.TokenParams),
    clientId: options.value(OPTION.ClientID),
    clientSecret: options.value(OPTION.ClientSecret),
    clientCredentialsMode: options.value(OPTION.ClientCredentialsMode),
    scope: options.value(OPTION.Scope),
  };
}
