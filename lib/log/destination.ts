import { pino, type DestinationStream } from 'pino';

/** How long a log line may wait in the buffer before it is written (ms). */
export const LOG_FLUSH_MS = 100;
/** Buffered lines are written as soon as they reach this many bytes. */
export const LOG_BUFFER_BYTES = 8 * 1024;

export interface LogDestination {
  readonly destination: DestinationStream;
  /** writes whatever is buffered, synchronously, and stops the flush timer */
  close(): void;
}

export interface LogDestinationOptions {
  readonly flushMs?: number;
  readonly bufferBytes?: number;
}

/**
 * Where `tokenshim serve` writes its log lines. A stream backed by a file descriptor
 * (process.stderr, as systemd, docker or a shell redirect hand it over) gets pino's own SonicBoom
 * on that descriptor, gathering lines and writing them together: node writes to a file or pipe
 * synchronously, one syscall a line, and with the access log's line per request that syscall was
 * 14% of the proxy's CPU in the bench profile (issue 6). A line waits at most `flushMs`, everything
 * is written before the process exits (pino flushes its SonicBoom on exit) and on `close()`.
 *
 * Any other stream (a test capturing lines) is written line by line, as before.
 */
export function openLogDestination(
  stream: NodeJS.WritableStream,
  opts: LogDestinationOptions = {},
): LogDestination {
  const fd = (stream as { fd?: unknown }).fd;
  if (typeof fd !== 'number') {
    return { destination: stream as DestinationStream, close: () => undefined };
  }
  const boom = pino.destination({
    dest: fd,
    sync: false,
    minLength: opts.bufferBytes ?? LOG_BUFFER_BYTES,
  });
  let pending = false;
  const destination: DestinationStream = {
    write(line: string): void {
      pending = true;
      boom.write(line);
    },
  };
  const timer = setInterval(() => {
    if (!pending) return;
    pending = false;
    boom.flush();
  }, opts.flushMs ?? LOG_FLUSH_MS);
  timer.unref();
  let closed = false;
  return {
    destination,
    close(): void {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      // a write already under way makes flushSync throw; the exit hook writes the rest then
      try {
        boom.flushSync();
      } catch {
        /* EAGAIN or a write in progress: pino's exit hook flushes what is left */
      }
    },
  };
}
