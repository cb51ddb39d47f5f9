/** One load run: what to send, and what came back. */
export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  /** POST a body of this many bytes instead of a GET */
  readonly postBytes?: number;
  /** the direct contestant sends the credential itself */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LoadResult {
  readonly requests: number;
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  /** latency percentiles in microseconds */
  readonly latencyUs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
  /** responses with a status of 400 or more */
  readonly non2xx: number;
  /** connect, read, write errors and timeouts */
  readonly socketErrors: number;
}

export interface LoadGenerator {
  /** `wrk 4.1.0` or `autocannon 8.0.0` */
  readonly name: string;
  run(spec: LoadSpec): Promise<LoadResult>;
  close(): Promise<void>;
}
