import type { TokenEvent } from '../auth/token-events.js';
import type { ExchangeEvent, ExchangeObserver } from '../proxy/forward/exchange.js';
import { accessLineWriter } from './access-line.js';
import type { Logger } from './logger.js';
import { pathWithoutQueryValues } from './scrub-text.js';

/**
 * The access log: one line per forwarded request when it ends. It also listens to token events,
 * to say whether a request waited for a token: a request the token engine had to fetch one for
 * (on demand) while it was in flight.
 */
export interface AccessLog extends ExchangeObserver {
  tokenEvent(e: TokenEvent): void;
}

/** Undefined when `info` is off for `log`: then there is nothing to write or remember. */
export function createAccessLog(log: Logger): AccessLog | undefined {
  // one line per request, formatted without pino's general path (access-line.ts)
  const accessLine = accessLineWriter(log.child({ component: 'access' }));
  if (accessLine === undefined) return undefined;
  /**
   * performance.now() of each DSN's latest token obtained because a request needed one. Set when
   * the token arrives, not when it was asked for: a request whose token fetch failed did not get
   * a refreshed token, and its access line must not say it did.
   */
  const onDemandAt = new Map<string, number>();
  return {
    tokenEvent(e: TokenEvent): void {
      if (e.type === 'token_fetched' && e.trigger === 'on_demand')
        onDemandAt.set(e.dsn, performance.now());
    },
    exchangeEnded(e: ExchangeEvent): void {
      const startedAt = performance.now() - e.durationSeconds * 1000;
      accessLine({
        dsn: e.dsn,
        method: e.method,
        path: pathWithoutQueryValues(e.path),
        status: e.status,
        durationMs: Math.round(e.durationSeconds * 10_000) / 10,
        upstreamMs:
          e.upstreamSeconds === undefined ? undefined : Math.round(e.upstreamSeconds * 10_000) / 10,
        refreshed: e.replayed || (onDemandAt.get(e.dsn) ?? -Infinity) >= startedAt,
        replayed: e.replayed,
        retries: e.retries,
      });
    },
  };
}
