import { pino, type DestinationStream } from 'pino';
import type { RotatingLogFile } from './rotating-log-file.js';

/** How long a log line may wait before it is written (ms). */
export const LOG_FLUSH_MS = 100;
/** Gathered lines are written as soon as they reach this many characters. */
export const LOG_BUFFER_CHARS = 8 * 1024;

export interface LogDestination {
  readonly destination: DestinationStream;
  /** writes whatever is gathered, stops the flush timer and, for a log file, closes it */
  close(): Promise<void>;
}

export interface LogDestinationOptions {
  readonly flushMs?: number;
  readonly bufferChars?: number;
}

/**
 * Where `tokenshim serve` writes its log lines. A stream backed by a file descriptor
 * (process.stderr, as systemd, docker or a shell redirect hand it over) gets its lines gathered
 * and written together, one write(2) for many lines: node writes to a file or pipe synchronously,
 * one syscall a line, and with the access log's line per request that syscall was 14% of the
 * proxy's CPU in the bench profile. A line waits at most `flushMs`; whatever is gathered
 * is written on `close()` and when the process exits.
 *
 * The writing itself is pino's SonicBoom (partial writes, EAGAIN on a full pipe), synchronous as
 * stderr is, so lines keep their order and nothing is in flight at exit. The gathering is done
 * here: SonicBoom's own `minLength` measures its whole buffer for every line it appends.
 *
 * Any other stream (a test capturing lines) is written line by line, as before.
 */
export function openLogDestination(
  stream: NodeJS.WritableStream,
  opts: LogDestinationOptions = {},
): LogDestination {
  const fd = (stream as { fd?: unknown }).fd;
  if (typeof fd !== 'number') {
    return { destination: stream as DestinationStream, close: async () => undefined };
  }
  const boom = pino.destination({ dest: fd, sync: true });
  const write = (chunk: string): void => {
    boom.write(chunk);
  };
  const gathered = gatherLines(write, write, opts);
  return {
    destination: gathered.destination,
    close: async () => gathered.stop(),
  };
}

/**
 * `serve --log-file`: the same gathering in front of a rotating log file, whose writes are
 * asynchronous (rotating-file-stream); at exit, what is still gathered or queued is appended
 * synchronously. `close()` resolves once the file is written and closed.
 */
export function openLogFileDestination(
  file: RotatingLogFile,
  opts: LogDestinationOptions = {},
): LogDestination {
  const gathered = gatherLines(
    (chunk) => file.write(chunk),
    (chunk) => file.writeSyncAtExit(chunk),
    opts,
  );
  return {
    destination: gathered.destination,
    async close(): Promise<void> {
      gathered.stop();
      await file.end();
    },
  };
}

/**
 * Collects lines and hands them to `write` together: at `bufferChars`, every `flushMs`, and on
 * `stop()`; at process exit to `writeAtExit`, which must be synchronous. Lines after `stop()` go
 * straight to `write`.
 */
function gatherLines(
  write: (chunk: string) => void,
  writeAtExit: (chunk: string) => void,
  opts: LogDestinationOptions,
): { destination: DestinationStream; stop(): void } {
  const limit = opts.bufferChars ?? LOG_BUFFER_CHARS;
  let lines: string[] = [];
  let chars = 0;
  let stopped = false;
  const take = (): string => {
    const chunk = lines.join('');
    lines = [];
    chars = 0;
    return chunk;
  };
  const flush = (): void => {
    if (lines.length > 0) write(take());
  };
  const atExit = (): void => writeAtExit(take());
  const destination: DestinationStream = {
    write(line: string): void {
      if (stopped) {
        write(line);
        return;
      }
      lines.push(line);
      chars += line.length;
      if (chars >= limit) flush();
    },
  };
  const timer = setInterval(flush, opts.flushMs ?? LOG_FLUSH_MS);
  timer.unref();
  process.on('exit', atExit);
  return {
    destination,
    stop(): void {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      process.off('exit', atExit);
      flush();
    },
  };
}
