import { resolve } from 'node:path';
import type { DestinationStream } from 'pino';
import { openLogDestination, openLogFileDestination } from './destination.js';
import { openRotatingLogFile } from './rotating-log-file.js';

export interface ServeLogOutput {
  readonly destination: DestinationStream;
  /** pino-pretty lines: a person watches a terminal */
  readonly pretty: boolean;
  /** the log file, when there is one */
  readonly file?: string;
  /** writes what is gathered (and closes the file) */
  close(): Promise<void>;
}

/**
 * Where `tokenshim serve` logs: a rotating file with `--log-file` (JSON lines, whatever stderr
 * is), else pretty lines on a terminal, else JSON lines on stderr, gathered (lib/log/destination.ts).
 */
export function openServeLogOutput(
  opts: { file?: string | undefined; maxBytes?: number | undefined; keep?: number | undefined },
  io: { stderr: NodeJS.WritableStream; cwd: string },
): ServeLogOutput {
  if (opts.file !== undefined) {
    const path = resolve(io.cwd, opts.file);
    const file = openRotatingLogFile({
      path,
      fallback: io.stderr,
      ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }),
      ...(opts.keep === undefined ? {} : { keep: opts.keep }),
    });
    const out = openLogFileDestination(file);
    return { destination: out.destination, pretty: false, file: path, close: () => out.close() };
  }
  if ((io.stderr as { isTTY?: boolean }).isTTY === true) {
    return {
      destination: io.stderr as DestinationStream,
      pretty: true,
      close: async () => undefined,
    };
  }
  const out = openLogDestination(io.stderr);
  return { destination: out.destination, pretty: false, close: () => out.close() };
}
