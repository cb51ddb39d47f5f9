import type { LoadResult } from './load/load-generator.js';
import type { LedgerCounts } from './upstream/token-ledger.js';

/** What `npm run bench` writes to bench/results/latest.json. */

export const CONTESTANTS = ['direct', 'tokenshim', 'nginx', 'http-proxy', 'undici-floor'] as const;
export type ContestantName = (typeof CONTESTANTS)[number];

export const WORKLOADS = ['smallGet', 'largeGet', 'post4k', 'singleConnection'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly nginx: string | undefined;
  readonly loadGenerator: string;
  readonly kernel: string;
  /** 1-minute load average when the bench started: this machine is shared */
  readonly loadAverageAtStart: number;
  readonly date: string;
}

export interface Settings {
  readonly quick: boolean;
  readonly rounds: number;
  readonly roundSeconds: number;
  readonly connections: number;
  readonly rolloverSeconds: number;
  readonly rolloverTtlSeconds: number;
  readonly idleConnections: number;
  readonly streamBytes: number;
  /** rounds of each side-by-side pair (roundSeconds each) */
  readonly sideBySideRounds: number;
}

/** Medians over the rounds of one workload for one contestant. */
export interface WorkloadSummary {
  readonly requestsPerSecond: number;
  /** body bytes per second / 2^20 (1 MiB GET only) */
  readonly mibPerSecond?: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** CPU time the proxy process (nginx: master and worker) used per request; absent for direct */
  readonly cpuUsPerRequest?: number;
  /** summed over the rounds */
  readonly non2xx: number;
  readonly socketErrors: number;
  readonly rounds: readonly LoadResult[];
}

export interface ContestantResult {
  readonly name: ContestantName;
  /** set when the contestant could not run (nginx not installed, failed to start) */
  readonly skipped?: string;
  /** set when the contestant stopped working during the rounds; the rounds it finished count */
  readonly failed?: string;
  readonly workloads: Partial<Record<WorkloadName, WorkloadSummary>>;
  /** what the upstream saw from this contestant over all its rounds */
  readonly upstreamTokens: LedgerCounts;
}

export interface RolloverResult {
  readonly ttlSeconds: number;
  readonly durationSeconds: number;
  readonly tokenRequests: number;
  /** ceil(duration / ttl) + 1: one per token lifetime, plus the first */
  readonly tokenRequestsAllowed: number;
  /**
   * ceil((duration - ttl) / (ttl - 1)): the fewest any client can make without using an expired
   * token when the server stamps exp in whole seconds (exp = floor(issue time) + ttl). The token in
   * hand at the start covers ttl seconds at most; a replacement must arrive before the old token's
   * exp E, so it is issued in the second before E at the latest, and its own exp is at most
   * E + ttl - 1.
   */
  readonly tokenRequestsLowerBound: number;
  /** tokenRequests per token lifetime elapsed */
  readonly tokenRequestsPerLifetime: number;
  readonly upstreamTokens: LedgerCounts;
  readonly non2xx: number;
  readonly steady: LoadResult;
  readonly rollover: LoadResult;
  readonly peakRssBytes: number;
}

/** process.memoryUsage() of tokenshim at the end of a memory scenario: where the RSS went */
export interface HeapAtEnd {
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
}

export interface MemoryResult {
  /** peak RSS of the tokenshim process during the throughput rounds */
  readonly throughputRoundsPeakRssBytes: number;
  readonly idle: {
    readonly requested: number;
    readonly opened: number;
    readonly peakRssBytes: number;
    readonly heap: HeapAtEnd;
  };
  readonly download: StreamResult;
  readonly upload: StreamResult;
}

export interface StreamResult {
  readonly bytes: number;
  /** bytes that arrived (download: at the client; upload: at the upstream) */
  readonly transferred: number;
  readonly seconds: number;
  readonly peakRssBytes: number;
  readonly heap: HeapAtEnd;
  readonly error?: string;
}

export interface HttpsSummary {
  readonly requestsPerSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly non2xx: number;
  readonly socketErrors: number;
}

/** small GET over HTTPS: through tokenshim's CONNECT interception, and straight to the upstream */
export interface HttpsConnectResult {
  readonly loadGenerator: string;
  readonly direct: HttpsSummary;
  readonly connect: HttpsSummary;
  /** both clients' requests; the direct client's token is always valid */
  readonly upstreamTokens: LedgerCounts;
}

/** The bodies the JSON-rewrite scenario loads (bench/scenarios/json-rewrite.ts). */
export const JSON_REWRITE_ROWS = ['largeJson', 'smallJson', 'smallText'] as const;
export type JsonRewriteRowName = (typeof JSON_REWRITE_ROWS)[number];

export interface JsonRewriteFigures {
  readonly requestsPerSecond: number;
  /** body MiB per second (the 1 MiB row) */
  readonly mibPerSecond?: number;
  /** tokenshim's CPU per request */
  readonly cpuUsPerRequest?: number;
  readonly p99Us: number;
  readonly non2xx: number;
}

/** each body through a DSN with RewriteBodyUrls=1 (`rewrite`) and one with 0 (`plain`) */
export interface JsonRewriteResult {
  readonly rows: Readonly<
    Record<
      JsonRewriteRowName,
      { readonly rewrite: JsonRewriteFigures; readonly plain: JsonRewriteFigures }
    >
  >;
  /** size of the 1 MiB page as the upstream sends it */
  readonly largeJsonBytes: number;
}

/** Per-request CPU figures of one process, medians over the rounds. */
export interface CpuPerRequest {
  readonly us: number;
  readonly userUs: number;
  readonly systemUs: number;
}

/** One side-by-side round: both contestants loaded at once. */
export interface SideBySideRound {
  readonly usPerRequest: readonly [number, number];
  readonly requests: readonly [number, number];
}

/** Two contestants loaded at the same time, half the connections each (scenarios/side-by-side.ts). */
export interface SideBySideResult {
  readonly workload: WorkloadName;
  readonly contestants: readonly [ContestantName, ContestantName];
  readonly connectionsEach: number;
  readonly cpu: readonly [CpuPerRequest, CpuPerRequest];
  /** the first's CPU per request over the second's, round by round: median and quartiles */
  readonly ratio: { readonly median: number; readonly p25: number; readonly p75: number };
  readonly rounds: readonly SideBySideRound[];
}

export interface Target {
  readonly name: string;
  readonly measured: string;
  /** undefined when it could not be measured (nginx missing, quick mode) */
  readonly met: boolean | undefined;
}

export interface BenchResults {
  readonly machine: Machine;
  readonly settings: Settings;
  readonly contestants: readonly ContestantResult[];
  readonly rollover?: RolloverResult;
  readonly memory?: MemoryResult;
  readonly httpsConnect?: HttpsConnectResult;
  readonly jsonRewrite?: JsonRewriteResult;
  readonly sideBySide?: readonly SideBySideResult[];
  readonly targets: readonly Target[];
  readonly notes: readonly string[];
  /** top self-time functions of tokenshim, with --profile */
  readonly profile?: { readonly file: string; readonly top: readonly ProfileEntry[] };
}

export interface ProfileEntry {
  readonly function: string;
  readonly location: string;
  readonly selfMs: number;
  readonly selfPercent: number;
}
