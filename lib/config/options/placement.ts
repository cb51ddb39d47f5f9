import { OPTION } from '../catalogue.js';
import type { DsnConfig } from '../dsn.js';
import type { OptionReader } from '../option-reader.js';

export type PlacementOptions = Pick<
  DsnConfig,
  'tokenPlacement' | 'tokenScheme' | 'authHeader' | 'authParam'
>;

/** Where the credential goes on each forwarded request: which header or query parameter, and how. */
export function resolvePlacement(options: OptionReader): PlacementOptions {
  return {
    tokenPlacement: options.value(OPTION.TokenPlacement),
    tokenScheme: options.value(OPTION.TokenScheme),
    authHeader: options.value(OPTION.AuthHeader),
    authParam: options.value(OPTION.AuthParam),
  };
}
