import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcesses, NodeChild } from '../child-processes.js';
import { benchDsnSection, startTokenshimProcess } from '../contestants/tokenshim.js';
import type { LoadGenerator } from '../load/load-generator.js';
import type { RolloverResult, Settings } from '../results-model.js';
import { RssSampler } from '../rss-sampler.js';
import type { UpstreamReady, UpstreamStats } from '../upstream-process.js';
import { countsBetween } from '../upstream/token-ledger.js';
import { UPSTREAM_PATHS } from '../upstream/upstream-server.js';

/**
 * tokenshim under load while its tokens expire every `rolloverTtlSeconds`. One tokenshim process
 * with two DSNs loaded at the same time, half the connections each: `rollover` (short tokens) and
 * `steady` (hour-long tokens), the reference p99. Run side by side, both halves see the same
 * machine at every instant; run one after the other on a shared machine, their p99s differed by
 * more than the 1.2x the target allows from drift alone. The upstream counts requests that arrive
 * with an expired token (only a rollover token can expire); the OAuth server counts token requests.
 */
export async function runRollover(
  children: ChildProcesses,
  upstream: NodeChild<UpstreamReady>,
  load: LoadGenerator,
  settings: Settings,
  progress: (line: string) => void,
): Promise<RolloverResult> {
  const u = upstream.ready;
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-bench-rollover-'));
  const tokenshim = await startTokenshimProcess(children, dir, [
    benchDsnSection('steady', u.steadyTokenEndpoint, u),
    benchDsnSection('rollover', u.rolloverTokenEndpoint, u),
  ]);
  const sampler = new RssSampler(tokenshim.pid).start();
  try {
    const spec = (dsn: string, durationSeconds: number) => ({
      url: `${tokenshim.ready.url}/${dsn}${UPSTREAM_PATHS.small}`,
      connections: Math.max(1, Math.floor(settings.connections / 2)),
      durationSeconds,
    });
    const both = (seconds: number) =>
      Promise.all([load.run(spec('steady', seconds)), load.run(spec('rollover', seconds))]);
    if (!settings.quick) await both(2);

    const before = await upstream.request<UpstreamStats>('stats');
    const [steady, rollover] = await both(settings.rolloverSeconds);
    const after = await upstream.request<UpstreamStats>('stats');
    const tokenRequests = after.tokenRequests.rollover - before.tokenRequests.rollover;
    const upstreamTokens = countsBetween(before.tokens, after.tokens);
    const lifetimes = rollover.durationSeconds / u.rolloverTtlSeconds;
    progress(
      `rollover: p99 ${(rollover.latencyUs.p99 / 1000).toFixed(2)} ms (steady DSN alongside: ` +
        `${(steady.latencyUs.p99 / 1000).toFixed(2)} ms), ${tokenRequests} token requests, ` +
        `${upstreamTokens.expired} expired-token requests`,
    );
    return {
      ttlSeconds: u.rolloverTtlSeconds,
      durationSeconds: rollover.durationSeconds,
      tokenRequests,
      tokenRequestsAllowed: Math.ceil(lifetimes) + 1,
      tokenRequestsLowerBound: wholeSecondLowerBound(
        rollover.durationSeconds,
        u.rolloverTtlSeconds,
      ),
      tokenRequestsPerLifetime: tokenRequests / lifetimes,
      upstreamTokens,
      non2xx: rollover.non2xx,
      steady,
      rollover,
      peakRssBytes: sampler.stop(),
    };
  } finally {
    sampler.stop();
    await tokenshim.close();
  }
}

/**
 * The fewest token requests that keep a run of `seconds` free of expired tokens when the server
 * stamps exp = floor(issue time) + ttl: the token in hand at the start covers ttl seconds at most,
 * and each replacement, issued before the old token's exp E, lives until E + ttl - 1 at most.
 */
export function wholeSecondLowerBound(seconds: number, ttlSeconds: number): number {
  if (ttlSeconds <= 1) return Infinity;
  return Math.max(0, Math.ceil((seconds - ttlSeconds) / (ttlSeconds - 1)));
}
