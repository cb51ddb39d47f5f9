import type { Contestant } from '../contestants/contestant.js';
import type { LoadGenerator } from '../load/load-generator.js';
import { cpuTimesUs, type CpuTimes } from '../process-cpu.js';
import type {
  ContestantName,
  CpuPerRequest,
  SideBySideResult,
  SideBySideRound,
  Settings,
  WorkloadName,
} from '../results-model.js';
import { median, workloadSpec } from './throughput.js';

/** Pairs measured side by side: a contestant and the reference its CPU is judged against. */
export const SIDE_BY_SIDE_PAIRS: readonly {
  readonly pair: readonly [ContestantName, ContestantName];
  readonly workload: WorkloadName;
}[] = [{ pair: ['tokenshim', 'undici-floor'], workload: 'smallGet' }];

/**
 * CPU per request of two proxies loaded at the same time, half the connections each, round after
 * round. Measured one after the other (the throughput rounds), two rounds of one proxy on this
 * shared machine differ by 10-20% with the neighbours' load, more than a 10% target allows; loaded
 * together, both see the same machine at every instant, and the ratio of their CPU per request
 * in one round moves by a few percent (tokenshim against itself: 0.99x, quartiles 0.95-1.04).
 * User and system time are kept apart: the kernel's share (loopback TCP) is about the same for
 * every node proxy, so a difference is nearly all user time, the proxy's own code.
 */
export async function runSideBySide(
  a: Contestant,
  b: Contestant,
  workload: WorkloadName,
  load: LoadGenerator,
  settings: Settings,
  progress: (line: string) => void,
): Promise<SideBySideResult> {
  if (a.pid === undefined || b.pid === undefined) {
    throw new Error(`side by side needs two proxy processes (${a.name}, ${b.name})`);
  }
  const pids = [a.pid, b.pid] as const;
  const connectionsEach = Math.max(1, Math.floor(settings.connections / 2));
  const spec = (c: Contestant) => ({
    ...workloadSpec(workload, c, settings),
    connections: connectionsEach,
  });
  const rounds: SideBySideRound[] = [];
  const spent: [CpuTimes[], CpuTimes[]] = [[], []];
  for (let round = 1; round <= settings.sideBySideRounds; round++) {
    const before = pids.map(cpuTimesOf);
    const results = await Promise.all([load.run(spec(a)), load.run(spec(b))]);
    const after = pids.map(cpuTimesOf);
    const requests = [results[0].requests, results[1].requests] as const;
    if (requests[0] === 0 || requests[1] === 0) continue;
    const perRequest = [0, 1].map((i) => ({
      userUs: (after[i]!.userUs - before[i]!.userUs) / requests[i]!,
      systemUs: (after[i]!.systemUs - before[i]!.systemUs) / requests[i]!,
    }));
    spent[0].push(perRequest[0]!);
    spent[1].push(perRequest[1]!);
    const us = perRequest.map((t) => t.userUs + t.systemUs);
    rounds.push({ usPerRequest: [us[0]!, us[1]!], requests });
    progress(
      `side by side ${round}/${settings.sideBySideRounds} ${workload}: ${a.name} ${us[0]!.toFixed(1)} µs/req, ` +
        `${b.name} ${us[1]!.toFixed(1)} µs/req (${(us[0]! / us[1]!).toFixed(2)}x)`,
    );
  }
  if (rounds.length === 0)
    throw new Error(`no side-by-side round of ${a.name} and ${b.name} counted`);
  const ratios = rounds.map((r) => r.usPerRequest[0] / r.usPerRequest[1]);
  return {
    workload,
    contestants: [a.name, b.name],
    connectionsEach,
    cpu: [summarise(spent[0]), summarise(spent[1])],
    ratio: { median: median(ratios), p25: quantile(ratios, 0.25), p75: quantile(ratios, 0.75) },
    rounds,
  };
}

function cpuTimesOf(pid: number): CpuTimes {
  const t = cpuTimesUs(pid);
  if (t === undefined) throw new Error(`process ${pid} is gone`);
  return t;
}

function summarise(times: readonly CpuTimes[]): CpuPerRequest {
  return {
    us: median(times.map((t) => t.userUs + t.systemUs)),
    userUs: median(times.map((t) => t.userUs)),
    systemUs: median(times.map((t) => t.systemUs)),
  };
}

/** linear interpolation between the closest ranks */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}
