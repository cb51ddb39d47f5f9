import { pino, type DestinationStream, type Logger } from 'pino';

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
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { name: 'tokenshim' },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    },
    opts.destination,
  );
}

/** A logger that writes nothing, for library users and tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
