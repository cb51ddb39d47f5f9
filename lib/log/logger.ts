import { pino, type DestinationStream, type Logger } from 'pino';
import { createRequire } from 'node:module';
import type { PrettyOptions } from 'pino-pretty';
import { scrubRecord, scrubSecretsInText } from './scrub-text.js';

export type { Logger };

/**
 * Paths pino blanks before a line is written. Secrets should never be logged in the first place;
 * this is the second line of defence.
 */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'authorization',
  'clientSecret',
  'client_secret',
  'refreshToken',
  'refresh_token',
  'accessToken',
  'access_token',
  'password',
  'securityToken',
  'adminKey',
  '*.clientSecret',
  '*.client_secret',
  '*.refreshToken',
  '*.refresh_token',
  '*.accessToken',
  '*.access_token',
  '*.password',
  '*.securityToken',
]);

export interface LoggerOptions {
  level?: string;
  /** where lines go (tests pass a capturing stream); default stdout */
  destination?: DestinationStream;
  /** human-readable lines (pino-pretty, to `destination`) instead of JSON: for a terminal */
  pretty?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { name: 'tokenshim' },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      // redact blanks whole fields; secrets inside strings (a URL's access_token=...) are caught here
      formatters: { log: (record) => scrubRecord(record) },
      hooks: {
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) {
            const a = args[i];
            if (typeof a === 'string') args[i] = scrubSecretsInText(a);
          }
          method.apply(this, args);
        },
      },
    },
    opts.pretty
      ? loadPinoPretty()({
          colorize: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,name',
          ...(opts.destination ? { destination: opts.destination as NodeJS.WritableStream } : {}),
        })
      : opts.destination,
  );
}

/**
 * pino-pretty is loaded only for a terminal: it costs about 10 MB of resident memory that a
 * service writing JSON lines never needs.
 */
function loadPinoPretty(): (options: PrettyOptions) => DestinationStream {
  const require = createRequire(import.meta.url);
  return require('pino-pretty') as (options: PrettyOptions) => DestinationStream;
}

/** A logger that writes nothing, for library users and tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
