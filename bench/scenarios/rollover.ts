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
 * tokenshim under steady load while its tokens expire every `rolloverTtlSeconds`. One tokenshim
 * process with two DSNs: `steady` (hour-long tokens) gives the reference p99 first, then
 * `rollover` (short tokens, never used before) runs for the same time under the same load. The
 * upstream counts requests that arrive with an expired token; the OAuth server counts token
 * requests.
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
      connections: settings.connections,
      durationSeconds,
    });
    if (!settings.quick) await load.run(spec('steady', 2));
    // quick mode judges nothing: a short reference is enough to exercise the path
    const steady = await load.run(spec('steady', settings.quick ? 1 : settings.rolloverSeconds));
    progress(`rollover: steady p99 ${(steady.latencyUs.p99 / 1000).toFixed(2)} ms`);

    const before = await upstream.request<UpstreamStats>('stats');
    const rollover = await load.run(spec('rollover', settings.rolloverSeconds));
    const after = await upstream.request<UpstreamStats>('stats');
    const tokenRequests = after.tokenRequests.rollover - before.tokenRequests.rollover;
    const upstreamTokens = countsBetween(before.tokens, after.tokens);
    const lifetimes = rollover.durationSeconds / u.rolloverTtlSeconds;
    progress(
      `rollover: p99 ${(rollover.latencyUs.p99 / 1000).toFixed(2)} ms, ${tokenRequests} token requests, ` +
        `${upstreamTokens.expired} expired-token requests`,
    );
    return {
      ttlSeconds: u.rolloverTtlSeconds,
      durationSeconds: rollover.durationSeconds,
      tokenRequests,
      tokenRequestsAllowed: Math.ceil(lifetimes) + 1,
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
