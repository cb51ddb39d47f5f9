import type { Clock } from '../../clock.js';
import type { Logger } from '../../log/logger.js';
import type { DsnBinding } from '../dsn-binding.js';

/*
 * What an Exchange (exchange.ts) is given and what it reports, apart from the class itself: the
 * routing builds targets, the server builds the context, metrics and logs observe the events.
 */

/** Where one client request goes and how the upstream's URLs map back to what the client used. */
export interface ExchangeTarget {
  readonly binding: DsnBinding;
  /** origin to call: the DSN's upstream or one of its AllowedHosts */
  readonly origin: string;
  /** Host header for that origin */
  readonly host: string;
  /** path and query at that origin, as the client sent them (credential parameters not yet set) */
  readonly path: string;
  /** the upstream path prefix the route maps ('' for the forward proxy) */
  readonly upstreamBasePath: string;
  /** the origin the client spoke to (`http://127.0.0.1:8790`, `http://api.example.com`) */
  readonly publicOrigin: string;
  /** `/<DSN>` on the gateway, '' elsewhere */
  readonly publicBasePath: string;
  /** upstream URLs inside JSON bodies are rewritten too (gateway and dedicated routes) */
  readonly rewriteBodyUrls?: boolean;
  /** the request's Origin when it is on the DSN's AllowedOrigins: the answer gets CORS headers */
  readonly corsOrigin?: string;
  /** the client's Authorization carried the DSN's ClientKey: tokenshim's, never forwarded */
  readonly clientKeyInAuthorization?: boolean;
}

/** What one forwarded request came to, for metrics and access logs. */
export interface ExchangeEvent {
  readonly dsn: string;
  readonly method: string;
  /** the status the client got; 0 when the client left before an answer */
  readonly status: number;
  /** the request was sent again with a fresh token after a RefreshOnStatus answer */
  readonly replayed: boolean;
  /** times the request was sent again after a RetryOnStatus answer (all pages of a walk) */
  readonly retries: number;
  /** from sending upstream to the upstream's response headers (last attempt); absent if none came */
  readonly upstreamSeconds?: number;
  /** the client's request target as received (the access log strips query values) */
  readonly path: string;
  /** from the request reaching the proxy to the end of its response */
  readonly durationSeconds: number;
}

export interface ExchangeObserver {
  exchangeEnded(event: ExchangeEvent): void;
}

/** What every exchange of one server shares: made once per server, not per request. */
export interface ExchangeContext {
  readonly log: Logger;
  /** told about every exchange when it ends (metrics, access log) */
  readonly observer: ExchangeObserver | undefined;
  /** a client silent this long while its request body is read is cut (lib/proxy/client-timeouts.ts) */
  readonly clientIdleMs: number;
  /** waits before RetryOnStatus retries */
  readonly clock: Clock;
}
