import { OPTION } from '../catalogue.js';
import type { DsnConfig } from '../dsn.js';
import type { OptionReader } from '../option-reader.js';

export type TokenLifecycleOptions = Pick<
  DsnConfig,
  | 'refreshMarginSeconds'
  | 'prefetch'
  | 'defaultTokenLifetimeSeconds'
  | 'refreshOnStatus'
  | 'refreshOnBody'
  | 'replayBodyLimitBytes'
  | 'tokenStore'
  | 'tokenStoreKey'
  | 'maxUserTokens'
>;

/** When tokens are refreshed, where refresh tokens are kept, and how many per-user tokens live. */
export function resolveTokenLifecycle(options: OptionReader): TokenLifecycleOptions {
  return {
    refreshMarginSeconds: options.value(OPTION.RefreshMargin),
    prefetch: options.value(OPTION.Prefetch),
    defaultTokenLifetimeSeconds: options.value(OPTION.DefaultTokenLifetime),
    refreshOnStatus: options.value(OPTION.RefreshOnStatus),
    refreshOnBody: options.value(OPTION.RefreshOnBody),
    replayBodyLimitBytes: options.value(OPTION.ReplayBodyLimit),
    tokenStore: options.value(OPTION.TokenStore),
    // the DSN's name, so two DSNs sharing one store do not share a refresh token
    tokenStoreKey: options.value(OPTION.TokenStoreKey) ?? options.dsn,
    maxUserTokens: options.value(OPTION.MaxUserTokens),
  };
}
