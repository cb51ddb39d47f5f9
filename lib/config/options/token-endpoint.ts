import { OPTION } from '../catalogue.js';
import type { DsnConfig } from '../dsn.js';
import type { OptionReader } from '../option-reader.js';

export type TokenEndpointOptions = Pick<
  DsnConfig,
  | 'tokenEndpoint'
  | 'tokenRequestFormat'
  | 'tokenParams'
  | 'clientId'
  | 'clientSecret'
  | 'clientCredentialsMode'
  | 'scope'
>;

/** Where tokens come from and what every token request carries. */
export function resolveTokenEndpoint(options: OptionReader): TokenEndpointOptions {
  return {
    tokenEndpoint: options.value(OPTION.TokenURI),
    tokenRequestFormat: options.value(OPTION.TokenRequestFormat),
    tokenParams: options.value(OPTION.TokenParams),
    clientId: options.value(OPTION.ClientID),
    clientSecret: options.value(OPTION.ClientSecret),
    clientCredentialsMode: options.value(OPTION.ClientCredentialsMode),
    scope: options.value(OPTION.Scope),
  };
}
