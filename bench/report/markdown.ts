import type {
  BenchResults,
  ContestantResult,
  HeapAtEnd,
  WorkloadName,
  WorkloadSummary,
} from '../results-model.js';
import { jsonRewriteMarkdown } from '../scenarios/json-rewrite.js';

/** The bench's results as the markdown printed at the end and saved to bench/results/latest.md. */
export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const m = r.machine;
  const s = r.settings;
  out.push(`## tokenshim benchmark${s.quick ? ' (quick mode: numbers are not meaningful)' : ''}`);
  out.push('');
  out.push(
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), Linux ${m.kernel}, node ${m.node}, ` +
      `${m.nginx ?? 'nginx not installed'}, load generator ${m.loadGenerator}; ` +
      `load average ${m.loadAverageAtStart.toFixed(2)} at start (started ${m.date}).`,
  );
  out.push(
    `Settings: ${s.connections} keep-alive connections, ${s.rounds} interleaved round(s) of ${s.roundSeconds} s per ` +
      'workload and contestant, medians reported, each figure with its ratio to direct (no proxy: the limit) and to nginx.',
  );
  out.push('');

  const live = r.contestants.filter((c) => !c.skipped);
  const direct = live.find((c) => c.name === 'direct');
  const nginx = live.find((c) => c.name === 'nginx');
  const ratio = (
    mine: number | undefined,
    base: ContestantResult | undefined,
    pick: (x: WorkloadSummary) => number | undefined,
    workload: WorkloadName,
  ): string => {
    const theirs = base?.workloads[workload];
    const b = theirs ? pick(theirs) : undefined;
    if (mine === undefined || b === undefined || b === 0) return '–';
    return `${(mine / b).toFixed(2)}x`;
  };

  out.push('### Throughput and latency');
  out.push('');
  out.push(
    'Requests per second count answered requests only (a request the upstream rejected is not throughput); ' +
      'the last two columns are what the upstream rejected: a token past its `exp`, or none/an unknown one.',
  );
  out.push('');
  out.push(
    '| contestant | small GET req/s | x direct | x nginx | p50 ms | p99 ms | p99 x nginx | 1 MiB GET MiB/s | x direct | x nginx | 4 KiB POST req/s | x direct | x nginx | expired-token requests | other rejected requests |',
  );
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of r.contestants) {
    if (c.skipped) {
      out.push(`| ${c.name} | skipped: ${oneLine(c.skipped)} |${' |'.repeat(14)}`);
      continue;
    }
    const sg = c.workloads.smallGet;
    const lg = c.workloads.largeGet;
    const po = c.workloads.post4k;
    const rps = (x: WorkloadSummary): number => x.requestsPerSecond;
    const mib = (x: WorkloadSummary): number | undefined => x.mibPerSecond;
    const p99 = (x: WorkloadSummary): number => x.p99Us;
    out.push(
      `| ${c.name} | ${fmt(sg?.requestsPerSecond, 0)} | ${ratio(sg?.requestsPerSecond, direct, rps, 'smallGet')} | ${ratio(sg?.requestsPerSecond, nginx, rps, 'smallGet')} ` +
        `| ${fmt(us2ms(sg?.p50Us), 2)} | ${fmt(us2ms(sg?.p99Us), 2)} | ${ratio(sg?.p99Us, nginx, p99, 'smallGet')} ` +
        `| ${fmt(lg?.mibPerSecond, 0)} | ${ratio(lg?.mibPerSecond, direct, mib, 'largeGet')} | ${ratio(lg?.mibPerSecond, nginx, mib, 'largeGet')} ` +
        `| ${fmt(po?.requestsPerSecond, 0)} | ${ratio(po?.requestsPerSecond, direct, rps, 'post4k')} | ${ratio(po?.requestsPerSecond, nginx, rps, 'post4k')} ` +
        `| ${c.upstreamTokens.expired} | ${c.upstreamTokens.missing + c.upstreamTokens.unknown} |`,
    );
  }
  out.push('');

  out.push('### CPU the proxy process spends per request (steadier than req/s on a busy machine)');
  out.push('');
  out.push(
    '| contestant | small GET µs/req | x nginx | x http-proxy | x undici-floor | 1 MiB GET µs/req | x nginx | x http-proxy | x undici-floor | 4 KiB POST µs/req | x nginx | x http-proxy | x undici-floor |',
  );
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const httpProxy = live.find((c) => c.name === 'http-proxy');
  const floor = live.find((c) => c.name === 'undici-floor');
  const cpu = (x: WorkloadSummary): number | undefined => x.cpuUsPerRequest;
  for (const c of live) {
    if (c.name === 'direct') continue;
    const cells = (['smallGet', 'largeGet', 'post4k'] as const).map((w) => {
      const mine = c.workloads[w]?.cpuUsPerRequest;
      return `${fmt(mine, 0)} | ${ratio(mine, nginx, cpu, w)} | ${ratio(mine, httpProxy, cpu, w)} | ${ratio(mine, floor, cpu, w)}`;
    });
    out.push(`| ${c.name} | ${cells.join(' | ')} |`);
  }
  out.push('');

  if (r.sideBySide?.length) {
    out.push(
      '### CPU per request side by side (loaded at the same time, half the connections each)',
    );
    out.push('');
    out.push(
      'Both processes see the same machine at every instant, so the ratio holds still where the figures above drift with the neighbours; system time is mostly loopback TCP, about the same for any node proxy.',
    );
    out.push('');
    out.push(
      '| workload | contestant | µs/req | user µs | system µs | reference | µs/req | user µs | system µs | ratio (median of rounds) | quartiles | rounds |',
    );
    out.push('|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|');
    for (const x of r.sideBySide) {
      const [a, b] = x.cpu;
      out.push(
        `| ${x.workload} | ${x.contestants[0]} | ${fmt(a.us, 1)} | ${fmt(a.userUs, 1)} | ${fmt(a.systemUs, 1)} ` +
          `| ${x.contestants[1]} | ${fmt(b.us, 1)} | ${fmt(b.userUs, 1)} | ${fmt(b.systemUs, 1)} ` +
          `| ${fmt(x.ratio.median, 2)}x | ${fmt(x.ratio.p25, 2)}-${fmt(x.ratio.p75, 2)} | ${x.rounds.length} |`,
      );
    }
    out.push('');
  }

  out.push('### One connection, small GET (latency each request adds)');
  out.push('');
  out.push('| contestant | p50 µs | p99 µs | added p50 µs vs direct | x direct | x nginx |');
  out.push('|---|---:|---:|---:|---:|---:|');
  const directSingle = direct?.workloads.singleConnection;
  for (const c of live) {
    const one = c.workloads.singleConnection;
    if (!one) continue;
    const added = directSingle ? one.p50Us - directSingle.p50Us : undefined;
    const p50 = (x: WorkloadSummary): number => x.p50Us;
    out.push(
      `| ${c.name} | ${fmt(one.p50Us, 0)} | ${fmt(one.p99Us, 0)} | ${fmt(added, 0)} | ${ratio(one.p50Us, direct, p50, 'singleConnection')} | ${ratio(one.p50Us, nginx, p50, 'singleConnection')} |`,
    );
  }
  out.push('');

  if (r.jsonRewrite) out.push(...jsonRewriteMarkdown(r.jsonRewrite));

  if (r.httpsConnect) {
    const h = r.httpsConnect;
    out.push('### HTTPS through CONNECT (tokenshim intercepting with its local CA), small GET');
    out.push('');
    out.push(
      `Both clients are undici request loops in the bench process (wrk cannot use a CONNECT proxy): compare the two rows with each other, not with the wrk table.`,
    );
    out.push('');
    out.push('| client | req/s | x direct HTTPS | p50 ms | p99 ms | rejected by the upstream |');
    out.push('|---|---:|---:|---:|---:|---:|');
    const rejected = h.upstreamTokens.missing + h.upstreamTokens.unknown + h.upstreamTokens.expired;
    out.push(
      `| direct HTTPS | ${fmt(h.direct.requestsPerSecond, 0)} | 1.00x | ${fmt(us2ms(h.direct.p50Us), 2)} | ${fmt(us2ms(h.direct.p99Us), 2)} | – |`,
    );
    out.push(
      `| tokenshim via CONNECT | ${fmt(h.connect.requestsPerSecond, 0)} | ${(h.connect.requestsPerSecond / Math.max(1, h.direct.requestsPerSecond)).toFixed(2)}x ` +
        `| ${fmt(us2ms(h.connect.p50Us), 2)} | ${fmt(us2ms(h.connect.p99Us), 2)} | ${rejected} |`,
    );
    out.push('');
  }

  if (r.rollover) {
    const ro = r.rollover;
    out.push(
      `### Token rollover (tokenshim, tokens live ${ro.ttlSeconds} s, ${ro.durationSeconds.toFixed(1)} s under load)`,
    );
    out.push('');
    out.push(
      `Two DSNs of one tokenshim loaded side by side, ${Math.floor(s.connections / 2)} connections each: ` +
        '`rollover` (short-lived tokens) and `steady` (hour-long tokens, the reference p99).',
    );
    out.push('');
    out.push(
      '| token requests | at most (one per lifetime) | fewest possible (whole-second exp) | per token lifetime | expired-token requests | latest expired use ms after exp | other rejected | steady p99 ms | rollover p99 ms | rollover / steady | peak RSS MB |',
    );
    out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    out.push(
      `| ${ro.tokenRequests} | ${ro.tokenRequestsAllowed} | ${ro.tokenRequestsLowerBound} | ${ro.tokenRequestsPerLifetime.toFixed(2)} | ${ro.upstreamTokens.expired} ` +
        `| ${ro.upstreamTokens.maxExpiredLateMs} | ${ro.upstreamTokens.missing + ro.upstreamTokens.unknown} ` +
        `| ${fmt(us2ms(ro.steady.latencyUs.p99), 2)} | ${fmt(us2ms(ro.rollover.latencyUs.p99), 2)} ` +
        `| ${(ro.rollover.latencyUs.p99 / Math.max(1, ro.steady.latencyUs.p99)).toFixed(2)}x | ${mb(ro.peakRssBytes)} |`,
    );
    out.push('');
    out.push(
      'The OAuth server stamps `exp` in whole seconds (exp = floor(issue time) + ttl): a replacement ' +
        "has to arrive before the old token's `exp` E, so it is issued in the second before E at the " +
        `latest and lives until E + ${ro.ttlSeconds - 1} s at most. No client can then avoid expired ` +
        `tokens with fewer than one request per ${ro.ttlSeconds - 1} s: the "fewest possible" column.`,
    );
    out.push('');
  }

  if (r.memory) {
    const mem = r.memory;
    out.push(
      '### tokenshim memory (peak RSS of its process; a fresh process for each scenario below the first)',
    );
    out.push('');
    out.push('| scenario | peak RSS MB | detail |');
    out.push('|---|---:|---|');
    out.push(
      `| throughput rounds above | ${mb(mem.throughputRoundsPeakRssBytes)} | all workloads, ${s.connections} connections |`,
    );
    const heap = (h: HeapAtEnd): string =>
      `; at the end: V8 heap ${mb(h.heapTotalBytes)} MB, external ${mb(h.externalBytes)} MB`;
    out.push(
      `| idle keep-alive connections | ${mb(mem.idle.peakRssBytes)} | ${mem.idle.opened} of ${mem.idle.requested} open and idle${heap(mem.idle.heap)} |`,
    );
    for (const [name, st] of [
      ['download', mem.download],
      ['upload', mem.upload],
    ] as const) {
      const detail = st.error
        ? `failed: ${st.error}`
        : `${gib(st.transferred)} of ${gib(st.bytes)} in ${st.seconds.toFixed(1)} s (${fmt(st.transferred / 2 ** 20 / st.seconds, 0)} MiB/s)${heap(st.heap)}`;
      out.push(
        `| ${gib(st.bytes)} ${name} streaming through | ${mb(st.peakRssBytes)} | ${detail} |`,
      );
    }
    out.push('');
  }

  out.push('### Targets');
  out.push('');
  out.push('| target | measured | result |');
  out.push('|---|---|---|');
  for (const t of r.targets) {
    const verdict = s.quick
      ? 'not asserted (quick)'
      : t.met === undefined
        ? 'not measured'
        : t.met
          ? 'met'
          : '**missed**';
    out.push(`| ${t.name} | ${t.measured} | ${verdict} |`);
  }
  out.push('');

  if (r.profile) {
    out.push(`### tokenshim CPU profile: top self time, share of busy time (${r.profile.file})`);
    out.push('');
    out.push('| function | where | self ms | self % |');
    out.push('|---|---|---:|---:|');
    for (const p of r.profile.top) {
      out.push(
        `| ${p.function} | ${p.location} | ${p.selfMs.toFixed(0)} | ${p.selfPercent.toFixed(1)} |`,
      );
    }
    out.push('');
  }

  const failures = r.contestants.filter((c) => c.failed);
  if (r.notes.length > 0 || failures.length > 0) {
    out.push('### Notes');
    out.push('');
    for (const c of failures) {
      out.push(
        `- ${c.name} stopped working during the rounds; its figures are the medians of the rounds it finished:`,
      );
      out.push('');
      out.push('  ```');
      for (const line of (c.failed ?? '').split('\n')) out.push(`  ${line}`);
      out.push('  ```');
      out.push('');
    }
    for (const n of r.notes) out.push(`- ${oneLine(n)}`);
    out.push('');
  }
  return out.join('\n');
}

/** a table cell or list item: no line breaks, no column separators */
function oneLine(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .slice(0, 400);
}

function fmt(n: number | undefined, digits: number): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function us2ms(us: number | undefined): number | undefined {
  return us === undefined ? undefined : us / 1000;
}

function mb(bytes: number): string {
  return bytes > 0 ? (bytes / 1e6).toFixed(1) : '–';
}

function gib(bytes: number): string {
  return bytes >= 2 ** 30
    ? `${(bytes / 2 ** 30).toFixed(bytes % 2 ** 30 === 0 ? 0 : 2)} GiB`
    : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
