import { OPTION } from '../catalogue.js';
import type { DsnConfig } from '../dsn.js';
import type { OptionReader } from '../option-reader.js';

export type LocalAccessOptions = Pick<
  DsnConfig,
  | 'listenPort'
  | 'interceptTls'
  | 'tunnelOtherHosts'
  | 'exposeTokens'
  | 'adminKey'
  | 'browserOrigins'
  | 'clientKey'
>;

/**
 * How clients reach the DSN beyond the gateway path: a dedicated port, CONNECT handling, the
 * admin route that hands out its token, and which web pages may call it.
 */
export function resolveLocalAccess(options: OptionReader): LocalAccessOptions {
  return {
    listenPort: options.value(OPTION.ListenPort),
    interceptTls: options.value(OPTION.InterceptTLS),
    tunnelOtherHosts: options.value(OPTION.TunnelOtherHosts),
    exposeTokens: options.value(OPTION.ExposeTokens),
    adminKey: options.value(OPTION.AdminKey),
    browserOrigins: options.value(OPTION.AllowedOrigins),
    clientKey: options.value(OPTION.ClientKey),
  };
}
