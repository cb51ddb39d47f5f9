import { join, resolve } from 'node:path';
import type { DsnConfig } from '../../config/dsn.js';
import { tokenshimHome, type TokenshimHomeOptions } from '../../platform/tokenshim-home.js';
import { FileTokenStore } from './file-store.js';
import { LazyRedisTokenStore } from './lazy-redis-store.js';
import { isRedisUrl } from './redis-url.js';
import type { TokenStore } from './token-store.js';

/**
 * Where tokens live when TokenStore is not set: next to the config file (`odbc.ini` →
 * `odbc.ini.tokens.json`), so each config keeps its own; for a connection string (no file),
 * `tokens.json` in TOKENSHIM_HOME (`~/.tokenshim`, `%ProgramData%\tokenshim` for a Windows service).
 */
export function defaultTokenStorePath(
  configPath: string | undefined,
  home: TokenshimHomeOptions = {},
): string {
  if (configPath !== undefined) return `${resolve(configPath)}.tokens.json`;
  return join(tokenshimHome(home), 'tokens.json');
}

/** One FileTokenStore per file in a process, so its locks and write queue cover every DSN using it. */
const fileStores = new Map<string, FileTokenStore>();

/** The store a DSN's TokenStore option names (a file path or a redis:// URL), or the default file. */
export function openTokenStore(dsn: DsnConfig, configPath: string | undefined): TokenStore {
  const spec = dsn.tokenStore?.trim();
  if (spec && isRedisUrl(spec)) return new LazyRedisTokenStore(dsn);
  const path = resolve(spec ? spec : defaultTokenStorePath(configPath));
  let store = fileStores.get(path);
  if (!store) {
    store = new FileTokenStore(path);
    fileStores.set(path, store);
  }
  return store;
}
