import type { DsnConfig } from '../config/dsn.js';
import { loadConfig } from '../config/load.js';
import { formatProblem, hasErrors } from '../config/problems.js';
import { ConfigError } from '../errors.js';
import { configSource } from './config-source.js';
import type { CliIo } from './io.js';
import { UsageError } from './io.js';

export interface SelectedDsn {
  readonly dsn: DsnConfig;
  /** the odbc.ini the DSN came from (the default token store sits beside it) */
  readonly configPath: string | undefined;
}

/**
 * The one DSN a command acts on (`tokenshim login crm`, `tokenshim token --connect "..."`).
 * Problems of other DSNs in the file are not this command's business; the chosen one's are
 * printed and end the command as a configuration error (exit 2).
 */
export async function selectDsn(
  name: string | undefined,
  source: { config?: string | undefined; connect?: string | undefined },
  io: CliIo,
): Promise<SelectedDsn> {
  const loaded = await loadConfig(await configSource(source, io));
  const mine =
    source.connect !== undefined
      ? loaded.problems
      : loaded.problems.filter(
          (p) => p.dsn === undefined || p.dsn.toLowerCase() === name?.toLowerCase(),
        );
  if (hasErrors(mine)) {
    throw new ConfigError(
      `the configuration has errors:\n${mine.map(formatProblem).join('\n')}\nFix them (tokenshim check lists every problem).`,
      mine,
    );
  }
  if (source.connect !== undefined && name === undefined && loaded.dsns.length === 1) {
    return { dsn: loaded.dsns[0] as DsnConfig, configPath: loaded.path };
  }
  if (name === undefined) {
    throw new UsageError(
      `name the DSN${loaded.dsns.length > 0 ? ` (one of ${loaded.dsns.map((d) => d.name).join(', ')})` : ''}`,
    );
  }
  const dsn = loaded.dsns.find((d) => d.name.toLowerCase() === name.toLowerCase());
  if (!dsn) {
    throw new UsageError(
      `no DSN named "${name}" in ${loaded.label ?? loaded.path ?? 'the connection string'}` +
        (loaded.dsns.length > 0
          ? `; it has ${loaded.dsns.map((d) => d.name).join(', ')}`
          : '; it has no valid DSN'),
    );
  }
  return { dsn, configPath: loaded.path };
}
