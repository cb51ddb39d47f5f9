import type { TokenEvent, TokenEventListener } from '../auth/token-events.js';
import { systemClock, type Clock } from '../clock.js';
import { accessLineWriter } from '../log/access-line.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { pathWithoutQueryValues } from '../log/scrub-text.js';
import { metricsRoute } from '../proxy/admin/metrics.js';
import { readyRoute } from '../proxy/admin/ready.js';
import { statusRoute } from '../proxy/admin/status.js';
import type { ExchangeEvent, ExchangeObserver, TokenshimServer } from '../proxy/server.js';
import { ProxyMetrics } from './proxy-metrics.js';

/**
 * Everything a person running the proxy watches, wired from the proxy's two extension points
 * (the exchange observer and the token engine's onEvent hook) to metrics, the access log and the
 * token log; `attach` adds /_tokenshim/ready, /metrics and /status to a server.
 *
 *   const ops = createProxyInstrumentation({ logger });
 *   const server = await startServer({ ..., observer: ops.observer,
 *     createProvider: (dsn) => createCredentialProvider(dsn, { logger, onEvent: ops.onTokenEvent }) });
 *   ops.attach(server);
 */
export interface ProxyInstrumentation {
  readonly metrics: ProxyMetrics;
  /** the token engine's onEvent (createCredentialProvider's deps.onEvent) */
  readonly onTokenEvent: TokenEventListener;
  /** startServer's `observer` */
  readonly observer: ExchangeObserver;
  /** adds the ready, metrics and status routes; the expiry gauge reads this server's providers */
  attach(server: TokenshimServer): void;
}

export interface ProxyInstrumentationOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** shown on the status page; default package.json's */
  readonly version?: string;
  /** prom-client's process metrics; default true */
  readonly processMetrics?: boolean;
  /** how long /_tokenshim/ready waits for a DSN's token; default 10 s */
  readonly readyTokenTimeoutMs?: number;
}

export function createProxyInstrumentation(
  opts: ProxyInstrumentationOptions = {},
): ProxyInstrumentation {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? silentLogger;
  // one line per request, formatted without pino's general path (lib/log/access-line.ts)
  const accessLine = accessLineWriter(log.child({ component: 'access' }));
  const tokenLog = log.child({ component: 'token' });
  let server: TokenshimServer | undefined;
  const metrics = new ProxyMetrics({
    clock,
    processMetrics: opts.processMetrics ?? true,
    tokenStatus: (dsn) => server?.provider(dsn)?.status(),
  });
  /**
   * performance.now() of each DSN's latest token obtained because a request needed one. Set when
   * the token arrives, not when it was asked for: a request whose token fetch failed did not get
   * a refreshed token, and its access line must not say it did.
   */
  const onDemandAt = new Map<string, number>();

  const onTokenEvent = (event: TokenEvent): void => {
    metrics.forDsn(event.dsn).tokenEvent(event);
    if (event.type === 'token_fetched' && !event.ahead) {
      onDemandAt.set(event.dsn, performance.now());
    }
    logTokenEvent(tokenLog, event);
  };

  const observer: ExchangeObserver = {
    exchangeEnded(e: ExchangeEvent): void {
      const m = metrics.forDsn(e.dsn);
      if (e.status !== 0) m.request(e.method, e.status);
      if (e.upstreamSeconds !== undefined) m.upstreamLatency(e.upstreamSeconds);
      if (e.replayed) m.replay();
      if (accessLine === undefined) return;
      // a token obtained on demand for this DSN while this request was in flight: it waited on a refresh
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
      });
    },
  };

  return {
    metrics,
    onTokenEvent,
    observer,
    attach(s: TokenshimServer): void {
      server = s;
      s.adminRoutes
        .add(
          readyRoute({
            clock,
            ...(opts.readyTokenTimeoutMs === undefined
              ? {}
              : { tokenTimeoutMs: opts.readyTokenTimeoutMs }),
          }),
        )
        .add(metricsRoute(metrics))
        .add(
          statusRoute({
            metrics,
            clock,
            ...(opts.version === undefined ? {} : { version: opts.version }),
          }),
        );
      for (const dsn of s.dsns()) metrics.forDsn(dsn.name);
    },
  };
}

/** One line per token event; the events carry no token values by contract. */
function logTokenEvent(log: Logger, e: TokenEvent): void {
  const base = {
    event: e.type,
    dsn: e.dsn,
    ...(e.user === undefined ? {} : { user: e.user }),
    grantType: e.grantType,
    trigger: e.ahead ? 'ahead_of_expiry' : 'on_demand',
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
        },
        e.terminal ? 'token request refused: the DSN needs a new login' : 'token request failed',
      );
      return;
  }
}
