import type { LoadOptions } from '../config/load.js';
import type { CliIo } from './io.js';
import { UsageError } from './io.js';

/** `--config` and `--connect`, the same for every command that reads DSNs. */
export const CONFIG_SOURCE_OPTIONS = {
  config: {
    type: 'string',
    value: 'FILE',
    help: 'odbc.ini to read (default: $TOKENSHIM_CONFIG, $ODBCINI, ./odbc.ini, ~/.odbc.ini)',
  },
  connect: {
    type: 'string',
    value: 'STRING',
    help: 'a DSN as an ODBC connection string instead of a file',
  },
} as const;

/** Where a command's DSNs come from, for loadConfig; both options at once is a usage error. */
export function configSource(
  values: { readonly config?: string | undefined; readonly connect?: string | undefined },
  io: Pick<CliIo, 'env' | 'cwd'>,
): LoadOptions {
  if (values.config !== undefined && values.connect !== undefined) {
    throw new UsageError('--config and --connect cannot be used together: pick one source');
  }
  return {
    ...(values.config === undefined ? {} : { configPath: values.config }),
    ...(values.connect === undefined ? {} : { connect: values.connect }),
    env: io.env,
    cwd: io.cwd,
  };
}
