import { setTimeout as sleep } from 'node:timers/promises';
import type { NodeChild } from '../child-processes.js';
import { cpuTimeUs } from '../process-cpu.js';
import type { Contestant } from '../contestants/contestant.js';
import type { LoadGenerator, LoadResult, LoadSpec } from '../load/load-generator.js';
import type { ContestantName, Settings, WorkloadName, WorkloadSummary } from '../results-model.js';
import { WORKLOADS } from '../results-model.js';
import type { UpstreamReady, UpstreamStats } from '../upstream-process.js';
import { countsBetween, emptyCounts, type LedgerCounts } from '../upstream/token-ledger.js';
import { LARGE_BODY_BYTES, UPSTREAM_PATHS } from '../upstream/upstream-server.js';

export const POST_BYTES = 4 * 1024;
const SETTLE_MS = 150;

/** How each workload loads a contestant. */
export function workloadSpec(workload: WorkloadName, c: Contestant, settings: Settings): LoadSpec {
  const base = { headers: c.headers ?? {}, durationSeconds: settings.roundSeconds };
  switch (workload) {
    case 'smallGet':
      return { ...base, url: c.baseUrl + UPSTREAM_PATHS.small, connections: settings.connections };
    case 'largeGet':
      return { ...base, url: c.baseUrl + UPSTREAM_PATHS.large, connections: settings.connections };
    case 'post4k':
      return {
        ...base,
        url: c.baseUrl + UPSTREAM_PATHS.upload,
        connections: settings.connections,
        postBytes: POST_BYTES,
      };
    case 'singleConnection':
      return { ...base, url: c.baseUrl + UPSTREAM_PATHS.small, connections: 1 };
  }
}

export interface ThroughputOutcome {
  readonly summaries: Map<ContestantName, Partial<Record<WorkloadName, WorkloadSummary>>>;
  readonly upstreamTokens: Map<ContestantName, LedgerCounts>;
  /** a contestant that failed mid-run, with why */
  readonly failures: Map<ContestantName, string>;
}

/**
 * Rounds interleaved A B C D A B C D, workload by workload, so that whatever else the machine is
 * doing at a given minute hits every contestant alike; medians over the rounds.
 */
export async function runThroughputRounds(
  contestants: readonly Contestant[],
  load: LoadGenerator,
  upstream: NodeChild<UpstreamReady>,
  settings: Settings,
  progress: (line: string) => void,
): Promise<ThroughputOutcome> {
  const raw = new Map<string, LoadResult[]>();
  const cpu = new Map<string, number[]>();
  const upstreamTokens = new Map<ContestantName, LedgerCounts>(
    contestants.map((c) => [c.name, emptyCounts()]),
  );
  const failures = new Map<ContestantName, string>();
  for (let round = 1; round <= settings.rounds; round++) {
    for (const workload of WORKLOADS) {
      for (const c of contestants) {
        if (failures.has(c.name)) continue;
        const before = await upstream.request<UpstreamStats>('stats');
        const key = `${c.name}/${workload}`;
        try {
          const cpuBefore = c.pid ? cpuTimeUs(c.pid) : undefined;
          const result = await load.run(workloadSpec(workload, c, settings));
          const cpuAfter = c.pid ? cpuTimeUs(c.pid) : undefined;
          raw.set(key, [...(raw.get(key) ?? []), result]);
          if (cpuBefore !== undefined && cpuAfter !== undefined && result.requests > 0) {
            cpu.set(key, [...(cpu.get(key) ?? []), (cpuAfter - cpuBefore) / result.requests]);
          }
          progress(
            `round ${round}/${settings.rounds} ${workload.padEnd(16)} ${c.name.padEnd(10)} ` +
              `${result.requestsPerSecond.toFixed(0).padStart(7)} req/s  p99 ${(result.latencyUs.p99 / 1000).toFixed(2)} ms` +
              (result.non2xx + result.socketErrors > 0
                ? `  (${result.non2xx} non-2xx, ${result.socketErrors} socket errors)`
                : ''),
          );
        } catch (e) {
          const why = c.exitReport?.() ?? (e as Error).message;
          failures.set(c.name, why);
          progress(`${c.name}: ${why}`);
        }
        // requests the load generator abandoned when its time ran out may still be on their way
        // through the proxy: let them land in this contestant's count, not the next one's
        await sleep(SETTLE_MS);
        const after = await upstream.request<UpstreamStats>('stats');
        upstreamTokens.set(
          c.name,
          addCounts(upstreamTokens.get(c.name)!, countsBetween(before.tokens, after.tokens)),
        );
      }
    }
  }
  const summaries = new Map<ContestantName, Partial<Record<WorkloadName, WorkloadSummary>>>();
  for (const c of contestants) {
    const byWorkload: Partial<Record<WorkloadName, WorkloadSummary>> = {};
    for (const workload of WORKLOADS) {
      const rounds = raw.get(`${c.name}/${workload}`);
      if (rounds?.length) {
        byWorkload[workload] = summarise(workload, rounds, cpu.get(`${c.name}/${workload}`));
      }
    }
    summaries.set(c.name, byWorkload);
  }
  return { summaries, upstreamTokens, failures };
}

function summarise(
  workload: WorkloadName,
  rounds: readonly LoadResult[],
  cpuUsPerRequest: readonly number[] | undefined,
): WorkloadSummary {
  // a rejected request is not throughput: http-proxy sends some POSTs without the credential
  const rps = median(rounds.map((r) => (r.requests - r.non2xx) / r.durationSeconds));
  return {
    requestsPerSecond: rps,
    ...(cpuUsPerRequest?.length ? { cpuUsPerRequest: median(cpuUsPerRequest) } : {}),
    ...(workload === 'largeGet' ? { mibPerSecond: (rps * LARGE_BODY_BYTES) / 2 ** 20 } : {}),
    p50Us: median(rounds.map((r) => r.latencyUs.p50)),
    p99Us: median(rounds.map((r) => r.latencyUs.p99)),
    non2xx: rounds.reduce((s, r) => s + r.non2xx, 0),
    socketErrors: rounds.reduce((s, r) => s + r.socketErrors, 0),
    rounds,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function addCounts(a: LedgerCounts, b: LedgerCounts): LedgerCounts {
  return {
    checked: a.checked + b.checked,
    ok: a.ok + b.ok,
    missing: a.missing + b.missing,
    unknown: a.unknown + b.unknown,
    expired: a.expired + b.expired,
    maxExpiredLateMs: Math.max(a.maxExpiredLateMs, b.maxExpiredLateMs),
  };
}
