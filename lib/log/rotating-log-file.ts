import { appendFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';

/** Defaults of `serve --log-file`: `--log-max-size` and `--log-keep`. */
export const LOG_FILE_DEFAULTS = Object.freeze({
  maxBytes: 10 * 1024 * 1024,
  keep: 5,
  /** after the file failed (a rotation refused by Windows), how long lines go to stderr before it is reopened */
  reopenMs: 5_000,
});

export interface RotatingLogFileOptions {
  readonly path: string;
  /** rotate once the file reaches this size */
  readonly maxBytes?: number;
  /** rotated files kept: `tokenshim.1.log` (newest) to `tokenshim.<keep>.log` */
  readonly keep?: number;
  /** where lines go while the file cannot be written, and the one notice saying why (stderr) */
  readonly fallback: NodeJS.WritableStream;
  readonly reopenMs?: number;
}

/** A log file written in order, rotated by size (rotating-file-stream, classical mode). */
export interface RotatingLogFile {
  readonly path: string;
  /** appends, asynchronously and in order */
  write(chunk: string): void;
  /**
   * At process exit, when nothing asynchronous runs any more: appends what the stream had not
   * written yet, then `chunk`. A crash keeps its last lines (at worst one chunk twice).
   */
  writeSyncAtExit(chunk: string): void;
  /** writes what is queued and closes the file */
  end(): Promise<void>;
}

/**
 * `tokenshim.log` is always the live file, so `Get-Content -Wait` and `tail -f` keep working; at
 * `maxBytes` it becomes `tokenshim.1.log` and older ones move up to `keep`. The rotated names keep
 * the extension, so Windows still opens them with a double click.
 *
 * When the file fails (a rotation Windows refuses because another program holds the file open,
 * a full disk), lines go to `fallback` and the file is reopened `reopenMs` later: logging never
 * stops and never throws into the proxy.
 */
export function openRotatingLogFile(opts: RotatingLogFileOptions): RotatingLogFile {
  const maxBytes = opts.maxBytes ?? LOG_FILE_DEFAULTS.maxBytes;
  const keep = opts.keep ?? LOG_FILE_DEFAULTS.keep;
  const reopenMs = opts.reopenMs ?? LOG_FILE_DEFAULTS.reopenMs;
  const dir = dirname(opts.path);
  const ext = extname(opts.path);
  const stem = basename(opts.path, ext);
  const name = (index: number | Date | null): string =>
    typeof index === 'number' && index > 0 ? join(dir, `${stem}.${index}${ext}`) : opts.path;
  /** chunks handed to the stream and not yet written */
  const pending: string[] = [];
  let stream: RotatingFileStream | undefined;
  let reopenTimer: NodeJS.Timeout | undefined;
  let ended = false;

  const open = (): void => {
    reopenTimer = undefined;
    const s = createStream(name, { size: `${maxBytes}B`, rotate: keep, mode: 0o600 });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (stream !== s) return;
      stream = undefined;
      opts.fallback.write(
        `tokenshim: the log file ${opts.path} failed (${e.code ?? e.message}); ` +
          `log lines go to stderr until it is reopened in ${Math.round(reopenMs / 1000)} s\n`,
      );
      // what the failed stream still held is not lost
      if (pending.length > 0) opts.fallback.write(pending.splice(0).join(''));
      if (!ended) {
        reopenTimer = setTimeout(open, reopenMs);
        reopenTimer.unref();
      }
    });
    stream = s;
  };
  open();

  return {
    path: opts.path,
    write(chunk: string): void {
      const s = stream;
      if (!s) {
        opts.fallback.write(chunk);
        return;
      }
      pending.push(chunk);
      s.write(chunk, (e) => {
        if (!e && stream === s) pending.shift();
      });
    },
    writeSyncAtExit(chunk: string): void {
      const text = pending.splice(0).join('') + chunk;
      if (text === '') return;
      try {
        appendFileSync(opts.path, text, { mode: 0o600 });
      } catch {
        opts.fallback.write(text);
      }
    },
    async end(): Promise<void> {
      ended = true;
      if (reopenTimer) clearTimeout(reopenTimer);
      const s = stream;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.once('error', () => resolve());
        s.end(() => resolve());
      });
      stream = undefined;
    },
  };
}
