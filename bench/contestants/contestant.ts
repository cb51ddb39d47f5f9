import type { ContestantName } from '../results-model.js';

/** One way of getting a request with a credential to the upstream. */
export interface Contestant {
  readonly name: ContestantName;
  /** prepended to the upstream path: `http://127.0.0.1:8790/bench` for tokenshim's gateway route */
  readonly baseUrl: string;
  /** headers the load generator sends itself (direct only: it is its own credential) */
  readonly headers?: Readonly<Record<string, string>>;
  /** the process doing the proxying, for RSS */
  readonly pid?: number;
  /** why the process is gone, when it is (its exit code and the end of its stderr) */
  exitReport?(): string | undefined;
  close(): Promise<void>;
}

/**
 * One GET through the contestant before any load, so that a misconfigured contestant is reported
 * as such instead of as a very fast producer of 502s.
 */
export async function checkContestant(c: Contestant, path: string): Promise<string | undefined> {
  try {
    const res = await fetch(c.baseUrl + path, {
      headers: { ...c.headers },
      signal: AbortSignal.timeout(10_000),
    });
    const body = await res.text();
    if (res.status !== 200) return `answered ${res.status} to GET ${path}: ${body.slice(0, 200)}`;
    return undefined;
  } catch (e) {
    return `GET ${path} failed: ${(e as Error).message}`;
  }
}
