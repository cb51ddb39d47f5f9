import type { Readable } from 'node:stream';
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
    help: 'a DSN as an ODBC connection string instead of a file; - reads it from standard input\n(keeps its secrets out of the process list)',
  },
} as const;

/** Where a command's DSNs come from, for loadConfig; both options at once is a usage error. */
export async function configSource(
  values: { readonly config?: string | undefined; readonly connect?: string | undefined },
  io: Pick<CliIo, 'env' | 'cwd' | 'stderr'> & { readonly stdin?: Readable & { isTTY?: boolean } },
): Promise<LoadOptions> {
  if (values.config !== undefined && values.connect !== undefined) {
    throw new UsageError('--config and --connect cannot be used together: pick one source');
  }
  const piped = values.connect === '-';
  const connect = piped ? await readConnectionString(io) : values.connect;
  return {
    ...(values.config === undefined ? {} : { configPath: values.config }),
    ...(connect === undefined ? {} : { connect, connectOnCommandLine: !piped }),
    env: io.env,
    cwd: io.cwd,
  };
}

/** `--connect -`: the connection string from standard input, up to its end. */
async function readConnectionString(
  io: Pick<CliIo, 'stderr'> & { readonly stdin?: Readable & { isTTY?: boolean } },
): Promise<string> {
  const stdin = io.stdin ?? process.stdin;
  if (stdin.isTTY) {
    io.stderr.write(
      'Paste the connection string, then press Ctrl-D (Ctrl-Z and Enter on Windows):\n',
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') {
    throw new UsageError(
      '--connect - read an empty connection string from standard input: pipe one in ' +
        '(tokenshim serve --connect - < dsn.txt)',
    );
  }
  return text;
}
