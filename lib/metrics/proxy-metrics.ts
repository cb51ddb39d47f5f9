/**
 * Prometheus metrics for one proxy instance, on a Registry of its own (never prom-client's global
 * one: two servers in one process, as in tests, would otherwise share and double-register).
 *
 * The request hot path touches plain numbers only: prom-client hashes a label object on every
 * inc() and observe(), bound children included (a string built and a map probe per call, 0.5-1
 * µs per request for the two calls). Request counts and upstream latencies are counted per DSN in
 * typed arrays and handed to prom-client when /metrics is rendered: the counter through its
 * `collect` hook, the histogram as a CountedHistogram. Rare events (token events, replays) use
 * prom-client directly.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry, type LabelValues } from 'prom-client';
import type { TokenStatus } from '../auth/credential.js';
import type { TokenEvent } from '../auth/token-events.js';
import { systemClock, type Clock } from '../clock.js';
import type { AccessObserver, KeyRefusedEvent } from '../proxy/access/key-gate.js';
import type { ExchangeEvent, ExchangeObserver } from '../proxy/forward/exchange.js';
import { CountedHistogram, type HistogramCounts } from './counted-histogram.js';

/** Methods that get their own label value; anything else counts as `other` (bounded cardinality). */
export const METHOD_LABELS = Object.freeze([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'other',
] as const);
export const STATUS_CLASSES = Object.freeze(['1xx', '2xx', '3xx', '4xx', '5xx'] as const);
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** Seconds; upstream APIs range from a few ms (cached) to tens of seconds (bulk exports). */
export const UPSTREAM_LATENCY_BUCKETS_SECONDS = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]);

export interface RequestCounts {
  readonly total: number;
  readonly byStatusClass: Readonly<Record<StatusClass, number>>;
  /** requests replayed with a fresh token after a RefreshOnStatus answer */
  readonly replays: number;
  /** requests sent again after a RetryOnStatus answer (each retry counts) */
  readonly retries: number;
}

/** One DSN's metric handles, bound once. */
export class DsnMetrics {
  readonly dsn: string;
  readonly #metrics: ProxyMetrics;
  /** requests by method and status class: slot = method index x STATUS_CLASSES.length + class */
  readonly #requests = new Float64Array(METHOD_LABELS.length * STATUS_CLASSES.length);
  readonly #latency: HistogramCounts;
  readonly #replays: { inc(): void };
  readonly #retries: { inc(n?: number): void };
  readonly #tokenRequested: { inc(): void };
  readonly #tokenFetched: { inc(): void };
  readonly #refreshAhead: { inc(): void };
  readonly #refreshOnDemand: { inc(): void };
  #replayCount = 0;
  #retryCount = 0;

  constructor(metrics: ProxyMetrics, dsn: string) {
    this.dsn = dsn;
    this.#metrics = metrics;
    this.#latency = metrics.upstreamLatency.series(dsn);
    this.#replays = metrics.replays.labels(dsn);
    this.#retries = metrics.retries.labels(dsn);
    this.#tokenRequested = metrics.tokenRequested.labels(dsn);
    this.#tokenFetched = metrics.tokenFetched.labels(dsn);
    this.#refreshAhead = metrics.refreshes.labels(dsn, 'ahead_of_expiry');
    this.#refreshOnDemand = metrics.refreshes.labels(dsn, 'on_demand');
  }

  /** One request answered (by the upstream or by tokenshim itself). */
  request(method: string, status: number): void {
    const slot = slotOf(methodIndex(method), statusClassIndex(status));
    if (this.#requests[slot]!++ === 0) this.#metrics.requestSeriesStarted(this, slot);
  }

  /** Requests counted in one slot (method x status class). */
  requestsIn(slot: number): number {
    return this.#requests[slot]!;
  }

  /** Time from sending the upstream request to its response headers, in seconds. */
  upstreamLatency(seconds: number): void {
    this.#latency.observe(seconds);
  }

  /** A request replayed after the upstream rejected its token (RefreshOnStatus, usually 401). */
  replay(): void {
    this.#replays.inc();
    this.#replayCount++;
  }

  /** Requests sent again after the upstream said "later" (RetryOnStatus, usually 429 or 503). */
  retry(count: number): void {
    this.#retries.inc(count);
    this.#retryCount += count;
  }

  /** The token engine's events (Envoy's oauth2 filter names), from the provider's onEvent hook. */
  tokenEvent(event: TokenEvent): void {
    switch (event.type) {
      case 'token_requested':
        this.#tokenRequested.inc();
        if (event.trigger === 'ahead_of_expiry') this.#refreshAhead.inc();
        else if (event.trigger === 'on_demand') this.#refreshOnDemand.inc();
        // forced and prefetch requests are rare: a label child made when one happens
        else this.#metrics.refreshes.labels(this.dsn, event.trigger).inc();
        break;
      case 'token_fetched':
        this.#tokenFetched.inc();
        break;
      case 'token_fetch_failed':
        this.#metrics.tokenFetchFailed.labels(this.dsn, event.reason).inc();
        break;
    }
  }

  counts(): RequestCounts {
    const perClass = STATUS_CLASSES.map((_, c) => {
      let n = 0;
      for (let m = 0; m < METHOD_LABELS.length; m++) n += this.requestsIn(slotOf(m, c));
      return n;
    });
    const byStatusClass = Object.fromEntries(
      STATUS_CLASSES.map((c, i) => [c, perClass[i]!]),
    ) as Record<StatusClass, number>;
    return {
      total: perClass.reduce((a, b) => a + b, 0),
      byStatusClass,
      replays: this.#replayCount,
      retries: this.#retryCount,
    };
  }
}

/** The token state of a DSN (undefined: not served any more), read at scrape time. */
export type TokenStatusOf = (dsn: string) => TokenStatus | undefined;

export interface ProxyMetricsOptions {
  readonly clock?: Clock;
  /** include prom-client's process metrics (CPU, memory, event loop lag); default true */
  readonly processMetrics?: boolean;
}

/**
 * Observes the proxy's event streams (every forwarded request as it ends, every token event, every
 * refused key) and counts them; it never logs and never answers a request itself (/_tokenshim/metrics renders it).
 */
export class ProxyMetrics implements ExchangeObserver, AccessObserver {
  readonly registry = new Registry();
  readonly requests: Counter<'dsn' | 'method' | 'status_class'>;
  readonly upstreamLatency: CountedHistogram;
  readonly replays: Counter<'dsn'>;
  readonly retries: Counter<'dsn'>;
  readonly tokenRequested: Counter<'dsn'>;
  readonly tokenFetched: Counter<'dsn'>;
  readonly tokenFetchFailed: Counter<'dsn' | 'reason'>;
  readonly refreshes: Counter<'dsn' | 'trigger'>;
  readonly tokenExpiresIn: Gauge<'dsn'>;
  readonly keyRefusals: Counter<'kind' | 'dsn' | 'outcome'>;
  readonly #dsns = new Map<string, DsnMetrics>();
  /** the request counter's series, in the order each was first counted (as prom-client orders them) */
  readonly #requestSeries: { readonly dsn: DsnMetrics; readonly slot: number }[] = [];
  readonly #clock: Clock;

  constructor(opts: ProxyMetricsOptions = {}) {
    const registers = [this.registry];
    this.#clock = opts.clock ?? systemClock;
    const requestSeries = this.#requestSeries;
    this.requests = new Counter({
      name: 'tokenshim_requests_total',
      help: 'Requests answered, by DSN, method and status class (upstream answers and tokenshim errors)',
      labelNames: ['dsn', 'method', 'status_class'],
      registers,
      collect() {
        this.reset();
        for (const { dsn, slot } of requestSeries) {
          this.inc(
            {
              dsn: dsn.dsn,
              method: METHOD_LABELS[Math.floor(slot / STATUS_CLASSES.length)]!,
              status_class: STATUS_CLASSES[slot % STATUS_CLASSES.length]!,
            },
            dsn.requestsIn(slot),
          );
        }
      },
    });
    this.upstreamLatency = new CountedHistogram({
      name: 'tokenshim_upstream_duration_seconds',
      help: 'Time from sending a request upstream to its response headers',
      labelName: 'dsn',
      buckets: UPSTREAM_LATENCY_BUCKETS_SECONDS,
      registry: this.registry,
    });
    this.replays = new Counter({
      name: 'tokenshim_upstream_replays_total',
      help: 'Requests replayed with a fresh token after the upstream rejected the old one (RefreshOnStatus)',
      labelNames: ['dsn'],
      registers,
    });
    this.retries = new Counter({
      name: 'tokenshim_upstream_retries_total',
      help: 'Requests sent again after the upstream answered a RetryOnStatus status (429, 503), each retry counted',
      labelNames: ['dsn'],
      registers,
    });
    this.tokenRequested = new Counter({
      name: 'tokenshim_token_requested_total',
      help: 'Token requests sent to the token endpoint (Envoy: token_requested)',
      labelNames: ['dsn'],
      registers,
    });
    this.tokenFetched = new Counter({
      name: 'tokenshim_token_fetched_total',
      help: 'Token requests that returned a token (Envoy: token_fetched)',
      labelNames: ['dsn'],
      registers,
    });
    this.tokenFetchFailed = new Counter({
      name: 'tokenshim_token_fetch_failed_total',
      help: 'Token requests that failed, by reason (Envoy: token_fetch_failed_on_*)',
      labelNames: ['dsn', 'reason'],
      registers,
    });
    this.refreshes = new Counter({
      name: 'tokenshim_token_refreshes_total',
      help: 'Token requests by trigger: ahead_of_expiry (background), on_demand (a request waited), forced (tokenshim token --force, POST /_tokenshim/refresh) or prefetch (Prefetch=1, no request waiting)',
      labelNames: ['dsn', 'trigger'],
      registers,
    });
    this.tokenExpiresIn = new Gauge({
      name: 'tokenshim_token_expires_in_seconds',
      help: "Seconds until the DSN's current access token expires (negative: expired)",
      labelNames: ['dsn'],
      registers,
    });
    this.keyRefusals = new Counter({
      name: 'tokenshim_key_refusals_total',
      help: 'ClientKey and AdminKey attempts refused, by outcome: missing, wrong, or throttled (the address was locked out)',
      labelNames: ['kind', 'dsn', 'outcome'],
      registers,
    });
    if (opts.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: 'tokenshim_' });
    }
  }

  /** One forwarded request ended (startServer's observer). */
  exchangeEnded(e: ExchangeEvent): void {
    const m = this.forDsn(e.dsn);
    if (e.status !== 0) m.request(e.method, e.status);
    if (e.upstreamSeconds !== undefined) m.upstreamLatency(e.upstreamSeconds);
    if (e.replayed) m.replay();
    if (e.retries > 0) m.retry(e.retries);
  }

  /** A refused key (the proxy's key gate); `dsn` is empty for an admin key of any DSN. */
  keyRefused(e: KeyRefusedEvent): void {
    this.keyRefusals.labels(e.kind, e.dsn ?? '', e.outcome).inc();
  }

  /** A DSN counted its first request of a method and status class: its series is rendered from now. */
  requestSeriesStarted(dsn: DsnMetrics, slot: number): void {
    this.#requestSeries.push({ dsn, slot });
  }

  /** The token engine's onEvent. */
  tokenEvent(e: TokenEvent): void {
    this.forDsn(e.dsn).tokenEvent(e);
  }

  /** The DSN's bound handles; created on first use and kept. */
  forDsn(dsn: string): DsnMetrics {
    let m = this.#dsns.get(dsn);
    if (!m) {
      m = new DsnMetrics(this, dsn);
      this.#dsns.set(dsn, m);
    }
    return m;
  }

  /**
   * The Prometheus text exposition (version 0.0.4) and its content type. The expiry gauge is set
   * from `tokenStatus` now, at scrape time: tokens change between scrapes without any event.
   */
  async render(tokenStatus?: TokenStatusOf): Promise<{ contentType: string; body: string }> {
    this.tokenExpiresIn.reset();
    if (tokenStatus) {
      const now = this.#clock.now();
      for (const name of this.#dsns.keys()) {
        const status = tokenStatus(name);
        if (status?.expiresAt === undefined) continue;
        const labels: LabelValues<'dsn'> = { dsn: name };
        this.tokenExpiresIn.set(labels, Math.round((status.expiresAt - now) / 1000));
      }
    }
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function methodIndex(method: string): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'PATCH':
      return 4;
    case 'DELETE':
      return 5;
    case 'OPTIONS':
      return 6;
    default:
      return 7;
  }
}

function slotOf(methodIndex: number, statusClassIndex: number): number {
  return methodIndex * STATUS_CLASSES.length + statusClassIndex;
}

function statusClassIndex(status: number): number {
  const c = Math.floor(status / 100) - 1;
  return c >= 0 && c < STATUS_CLASSES.length ? c : STATUS_CLASSES.length - 1;
}
