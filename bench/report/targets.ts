import type {
  ContestantName,
  ContestantResult,
  MemoryResult,
  RolloverResult,
  SideBySideResult,
  Target,
  WorkloadName,
  WorkloadSummary,
} from '../results-model.js';

/** The targets, each judged from the medians (undefined: not measurable in this run). */
export const RSS_LIMIT_BYTES = 100 * 1000 * 1000;
/** peak RSS under the throughput rounds, node's default flags */
export const LOADED_RSS_LIMIT_BYTES = 150 * 1000 * 1000;
/** peak RSS while 1,000 keep-alive connections are opened and left idle */
export const IDLE_RSS_LIMIT_BYTES = 80 * 1000 * 1000;

export function judgeTargets(
  contestants: readonly ContestantResult[],
  rollover: RolloverResult | undefined,
  memory: MemoryResult | undefined,
  sideBySide: readonly SideBySideResult[] = [],
): Target[] {
  const w = (c: ContestantName, workload: WorkloadName): WorkloadSummary | undefined =>
    contestants.find((x) => x.name === c && !x.skipped)?.workloads[workload];
  const targets: Target[] = [];
  const atLeast = (
    name: string,
    ours: number | undefined,
    theirs: number | undefined,
    factor: number,
  ): void => {
    if (ours === undefined || theirs === undefined || theirs === 0) {
      targets.push({ name, measured: 'not measured', met: undefined });
      return;
    }
    const ratio = ours / theirs;
    targets.push({ name, measured: `${ratio.toFixed(2)}x`, met: ratio >= factor });
  };

  const ts = (workload: WorkloadName): WorkloadSummary | undefined => w('tokenshim', workload);
  atLeast(
    'small GET throughput >= 0.8x nginx',
    ts('smallGet')?.requestsPerSecond,
    w('nginx', 'smallGet')?.requestsPerSecond,
    0.8,
  );
  atLeast(
    'small GET throughput >= 1.5x http-proxy',
    ts('smallGet')?.requestsPerSecond,
    w('http-proxy', 'smallGet')?.requestsPerSecond,
    1.5,
  );
  atLeast(
    'small GET throughput >= 0.55x nginx (one worker)',
    ts('smallGet')?.requestsPerSecond,
    w('nginx', 'smallGet')?.requestsPerSecond,
    0.55,
  );
  atLeast(
    '1 MiB GET throughput >= 0.6x nginx',
    ts('largeGet')?.mibPerSecond,
    w('nginx', 'largeGet')?.mibPerSecond,
    0.6,
  );

  const vsFloor = sideBySide.find(
    (x) =>
      x.workload === 'smallGet' &&
      x.contestants[0] === 'tokenshim' &&
      x.contestants[1] === 'undici-floor',
  );
  const floorTarget = 'small GET CPU per request <= 1.10x undici-floor (side by side)';
  targets.push(
    vsFloor
      ? {
          name: floorTarget,
          measured: `${vsFloor.ratio.median.toFixed(2)}x (quartiles ${vsFloor.ratio.p25.toFixed(2)}-${vsFloor.ratio.p75.toFixed(2)})`,
          met: vsFloor.ratio.median <= 1.1,
        }
      : { name: floorTarget, measured: 'not measured', met: undefined },
  );

  const ourP99 = ts('smallGet')?.p99Us;
  const nginxP99 = w('nginx', 'smallGet')?.p99Us;
  targets.push(
    ourP99 === undefined || nginxP99 === undefined || nginxP99 === 0
      ? { name: 'p99 at 50 connections <= 2x nginx', measured: 'not measured', met: undefined }
      : {
          name: 'p99 at 50 connections <= 2x nginx',
          measured: `${(ourP99 / nginxP99).toFixed(2)}x`,
          met: ourP99 <= 2 * nginxP99,
        },
  );

  if (rollover) {
    targets.push({
      name: 'rollover: zero requests with an expired token',
      measured: String(rollover.upstreamTokens.expired),
      met: rollover.upstreamTokens.expired === 0,
    });
    targets.push({
      name: 'rollover: at most one token request per token lifetime',
      measured:
        `${rollover.tokenRequests} requests (${rollover.tokenRequestsPerLifetime.toFixed(2)} per lifetime; at most ${rollover.tokenRequestsAllowed}` +
        `; whole-second exp allows no fewer than ${rollover.tokenRequestsLowerBound})`,
      met: rollover.tokenRequests <= rollover.tokenRequestsAllowed,
    });
    const ratio = rollover.rollover.latencyUs.p99 / Math.max(1, rollover.steady.latencyUs.p99);
    targets.push({
      name: 'rollover p99 <= 1.2x steady-state p99',
      measured: `${ratio.toFixed(2)}x`,
      met: ratio <= 1.2,
    });
  } else {
    targets.push({ name: 'rollover', measured: 'not measured', met: undefined });
  }

  const peaks: [string, number | undefined][] = [
    ['throughput rounds', memory?.throughputRoundsPeakRssBytes],
    ['idle connections', memory?.idle.peakRssBytes],
    ['1 GiB download', memory?.download.peakRssBytes],
    ['1 GiB upload', memory?.upload.peakRssBytes],
    ['rollover', rollover?.peakRssBytes],
  ];
  const measured = peaks.filter((p): p is [string, number] => p[1] !== undefined && p[1] > 0);
  const worst = measured.reduce<[string, number] | undefined>(
    (a, b) => (a && a[1] >= b[1] ? a : b),
    undefined,
  );
  targets.push(
    worst
      ? {
          name: 'peak RSS < 100 MB in every scenario',
          measured: `${(worst[1] / 1e6).toFixed(1)} MB (${worst[0]})`,
          met: measured.every((p) => p[1] < RSS_LIMIT_BYTES),
        }
      : { name: 'peak RSS < 100 MB in every scenario', measured: 'not measured', met: undefined },
  );
  targets.push(
    below(
      'peak RSS under full load < 150 MB',
      memory?.throughputRoundsPeakRssBytes,
      LOADED_RSS_LIMIT_BYTES,
    ),
    below(
      'peak RSS, 1,000 idle keep-alive connections < 80 MB',
      memory?.idle.peakRssBytes,
      IDLE_RSS_LIMIT_BYTES,
    ),
  );
  return targets;
}

function below(name: string, bytes: number | undefined, limit: number): Target {
  if (bytes === undefined || bytes <= 0) return { name, measured: 'not measured', met: undefined };
  return { name, measured: `${(bytes / 1e6).toFixed(1)} MB`, met: bytes < limit };
}
