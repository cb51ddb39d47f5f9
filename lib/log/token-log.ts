import type { TokenEvent } from '../auth/token-events.js';
import type { Logger } from './logger.js';

/**
 * The token log: one line per token event, the only place token events are logged at info (the
 * token engine emits them; lib/app/start-tokenshim.ts routes them here). Events carry no token
 * values by contract, so every field can be written as it is.
 */
export function logTokenEvent(log: Logger, e: TokenEvent): void {
  const base = {
    event: e.type,
    dsn: e.dsn,
    ...(e.user === undefined ? {} : { user: e.user }),
    grantType: e.grantType,
    trigger: e.trigger,
  };
  switch (e.type) {
    case 'token_requested':
      log.info(base, 'token requested');
      return;
    case 'token_fetched':
      log.info(
        {
          ...base,
          lifetimeSeconds: e.lifetimeSeconds,
          refreshTokenRotated: e.refreshTokenRotated,
          fromStore: e.fromStore,
        },
        e.fromStore ? 'token taken from the token store' : 'token fetched',
      );
      return;
    case 'token_fetch_failed':
      log.warn(
        {
          ...base,
          reason: e.reason,
          ...(e.httpStatus === undefined ? {} : { httpStatus: e.httpStatus }),
          terminal: e.terminal,
          ...(e.retryInMs === undefined ? {} : { retryInMs: e.retryInMs }),
          ...(e.error === undefined ? {} : { error: e.error }),
        },
        e.terminal ? 'token request refused: the DSN needs a new login' : 'token request failed',
      );
      return;
  }
}
