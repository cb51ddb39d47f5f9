import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcesses, NodeChild } from '../child-processes.js';
import { benchDsnSection, startTokenshimProcess } from '../contestants/tokenshim.js';
import type { LoadGenerator, LoadResult } from '../load/load-generator.js';
import { cpuTimeUs } from '../process-cpu.js';
import {
  JSON_REWRITE_ROWS,
  type JsonRewriteFigures,
  type JsonRewriteResult,
  type JsonRewriteRowName,
  type Settings,
} from '../results-model.js';
import type { UpstreamReady } from '../upstream-process.js';
import { UPSTREAM_PATHS, largeJsonBody } from '../upstream/upstream-server.js';
import { median } from './throughput.js';

/**
 * What rewriting upstream URLs inside JSON bodies costs. One tokenshim, two DSNs on the
 * same upstream: `rewrite` (RewriteBodyUrls=1, the default) and `plain` (RewriteBodyUrls=0), loaded
 * in interleaved rounds on three bodies: a 1 MiB JSON page full of upstream links (the rewriter's
 * worst case), the small JSON answer, and a small text/plain answer, which must cost the same
 * with rewriting on (a non-JSON body is a pure pass-through: no per-chunk work).
 */

const PATHS: Record<JsonRewriteRowName, string> = {
  largeJson: UPSTREAM_PATHS.largeJson,
  smallJson: UPSTREAM_PATHS.small,
  smallText: UPSTREAM_PATHS.smallText,
};

const LABELS: Record<JsonRewriteRowName, string> = {
  largeJson: '1 MiB JSON GET (an upstream link in every record)',
  smallJson: 'small JSON GET',
  smallText: 'small non-JSON GET (text/plain)',
};

export async function runJsonRewrite(
  children: ChildProcesses,
  upstream: NodeChild<UpstreamReady>,
  load: LoadGenerator,
  workDir: string,
  settings: Settings,
  progress: (line: string) => void,
): Promise<JsonRewriteResult> {
  const u = upstream.ready;
  const tokenshim = await startTokenshimProcess(
    children,
    mkdtempSync(join(workDir, 'json-rewrite-')),
    [
      benchDsnSection('rewrite', u.steadyTokenEndpoint, u),
      `${benchDsnSection('plain', u.steadyTokenEndpoint, u)}RewriteBodyUrls=0\n`,
    ],
  );
  try {
    const spec = (dsn: 'rewrite' | 'plain', row: JsonRewriteRowName, seconds: number) => ({
      url: `${tokenshim.ready.url}/${dsn}${PATHS[row]}`,
      connections: settings.connections,
      durationSeconds: seconds,
    });
    if (!settings.quick) {
      for (const row of JSON_REWRITE_ROWS)
        for (const dsn of ['rewrite', 'plain'] as const) await load.run(spec(dsn, row, 2));
    }
    const runs = new Map<string, { result: LoadResult; cpuUs?: number }[]>();
    for (let round = 1; round <= settings.rounds; round++) {
      for (const row of JSON_REWRITE_ROWS) {
        // alternate which goes first, so neither always meets the other's leftovers
        const order =
          round % 2 === 1 ? (['rewrite', 'plain'] as const) : (['plain', 'rewrite'] as const);
        for (const dsn of order) {
          const before = cpuTimeUs(tokenshim.pid);
          const result = await load.run(spec(dsn, row, settings.roundSeconds));
          const after = cpuTimeUs(tokenshim.pid);
          const key = `${row}/${dsn}`;
          const cpuUs =
            before !== undefined && after !== undefined && result.requests > 0
              ? (after - before) / result.requests
              : undefined;
          runs.set(key, [
            ...(runs.get(key) ?? []),
            { result, ...(cpuUs === undefined ? {} : { cpuUs }) },
          ]);
          progress(
            `round ${round}/${settings.rounds} ${row.padEnd(10)} ${dsn.padEnd(8)} ${result.requestsPerSecond.toFixed(0).padStart(7)} req/s` +
              (cpuUs === undefined ? '' : `  ${cpuUs.toFixed(0)} µs CPU/req`),
          );
        }
      }
    }
    const largeJsonBytes = largeJsonBody(`127.0.0.1:${u.upstreamPort}`).length;
    const figures = (row: JsonRewriteRowName, dsn: 'rewrite' | 'plain'): JsonRewriteFigures => {
      const rounds = runs.get(`${row}/${dsn}`) ?? [];
      const rps = median(
        rounds.map((r) => (r.result.requests - r.result.non2xx) / r.result.durationSeconds),
      );
      const cpu = rounds.flatMap((r) => (r.cpuUs === undefined ? [] : [r.cpuUs]));
      return {
        requestsPerSecond: rps,
        ...(row === 'largeJson' ? { mibPerSecond: (rps * largeJsonBytes) / 2 ** 20 } : {}),
        ...(cpu.length > 0 ? { cpuUsPerRequest: median(cpu) } : {}),
        p99Us: median(rounds.map((r) => r.result.latencyUs.p99)),
        non2xx: rounds.reduce((sum, r) => sum + r.result.non2xx, 0),
      };
    };
    const rows = Object.fromEntries(
      JSON_REWRITE_ROWS.map((row) => [
        row,
        { rewrite: figures(row, 'rewrite'), plain: figures(row, 'plain') },
      ]),
    ) as JsonRewriteResult['rows'];
    return { rows, largeJsonBytes };
  } finally {
    await tokenshim.close();
  }
}

/** The section of the bench report. */
export function jsonRewriteMarkdown(r: JsonRewriteResult): string[] {
  const out = [
    '### JSON body rewriting (RewriteBodyUrls=1, the default, against RewriteBodyUrls=0 on the same tokenshim)',
    '',
    '| body | req/s rewriting | req/s not | ratio | CPU µs/req rewriting | CPU µs/req not | ratio | MiB/s rewriting | MiB/s not |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const n = (v: number | undefined, digits = 0): string =>
    v === undefined || !Number.isFinite(v)
      ? '–'
      : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const ratio = (a: number | undefined, b: number | undefined): string =>
    a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}x`;
  for (const row of JSON_REWRITE_ROWS) {
    const { rewrite: w, plain: p } = r.rows[row];
    out.push(
      `| ${LABELS[row]} | ${n(w.requestsPerSecond)} | ${n(p.requestsPerSecond)} | ${ratio(w.requestsPerSecond, p.requestsPerSecond)} ` +
        `| ${n(w.cpuUsPerRequest)} | ${n(p.cpuUsPerRequest)} | ${ratio(w.cpuUsPerRequest, p.cpuUsPerRequest)} ` +
        `| ${n(w.mibPerSecond)} | ${n(p.mibPerSecond)} |`,
    );
  }
  out.push('');
  out.push(
    `The 1 MiB page is ${(r.largeJsonBytes / 2 ** 20).toFixed(2)} MiB of records that each link to the upstream (rewritten to the gateway) and elsewhere (left alone). ` +
      'A non-JSON body is not looked at: its two columns differ only by the noise of the machine.',
  );
  out.push('');
  return out;
}
