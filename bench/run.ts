/**
 * `npm run bench`: tokenshim against no proxy (the limit), nginx and http-proxy, the token rollover
 * under load, and tokenshim's memory. Prints a markdown report and writes it, with the
 * raw figures, to bench/results/latest.{md,json}.
 *
 *   npm run bench                      full run (several minutes), targets judged
 *   npm run bench -- --quick           a smoke run in seconds (bench/results/quick.*), nothing judged
 *   npm run bench -- --profile         also writes tokenshim's CPU profile to bench/results/
 *   npm run bench -- --out DIR         write the results elsewhere
 *   npm run bench -- --without nginx,wrk   behave as if those were not installed (also: connect,
 *                                      to leave out the HTTPS-through-CONNECT row)
 *   npm run bench -- --node-flags="--max-semi-space-size=4" --out DIR
 *                                      run tokenshim's processes with these node flags
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { repoRoot } from '../test/fixtures/repo.js';
import { ChildProcesses, type NodeChild } from './child-processes.js';
import { checkContestant, type Contestant } from './contestants/contestant.js';
import { startNginx } from './contestants/nginx.js';
import {
  benchDsnSection,
  startTokenshimProcess,
  useTokenshimNodeFlags,
} from './contestants/tokenshim.js';
import type { ProxyReady } from './contestants/tokenshim-process.js';
import { createAutocannon } from './load/autocannon.js';
import type { LoadGenerator } from './load/load-generator.js';
import { createWrk } from './load/wrk.js';
import { describeMachine, installed, nginxVersion } from './machine.js';
import { watchDescriptors } from './open-descriptors.js';
import { topSelfTime } from './report/cpu-profile.js';
import { renderMarkdown } from './report/markdown.js';
import { judgeTargets } from './report/targets.js';
import type {
  BenchResults,
  ContestantName,
  ContestantResult,
  HttpsConnectResult,
  JsonRewriteResult,
  MemoryResult,
  RolloverResult,
  Settings,
  SideBySideResult,
} from './results-model.js';
import { CONTESTANTS, WORKLOADS } from './results-model.js';
import { RssSampler } from './rss-sampler.js';
import { runHttpsConnect } from './scenarios/https-connect.js';
import { runJsonRewrite } from './scenarios/json-rewrite.js';
import { runMemoryScenarios, type FreshTokenshim } from './scenarios/memory.js';
import { runRollover } from './scenarios/rollover.js';
import { SIDE_BY_SIDE_PAIRS, runSideBySide } from './scenarios/side-by-side.js';
import { runThroughputRounds, workloadSpec } from './scenarios/throughput.js';
import type { UpstreamReady } from './upstream-process.js';
import { emptyCounts } from './upstream/token-ledger.js';
import { UPSTREAM_PATHS } from './upstream/upstream-server.js';

const FULL: Omit<Settings, 'quick'> = {
  rounds: 5,
  roundSeconds: 3,
  connections: 50,
  rolloverSeconds: 20,
  rolloverTtlSeconds: 2,
  idleConnections: 1000,
  streamBytes: 2 ** 30,
  sideBySideRounds: 15,
};
const QUICK: Omit<Settings, 'quick'> = {
  rounds: 1,
  roundSeconds: 1,
  connections: 50,
  rolloverSeconds: 3,
  rolloverTtlSeconds: 2,
  idleConnections: 100,
  streamBytes: 32 * 2 ** 20,
  sideBySideRounds: 2,
};
/** the whole run is bounded: a hang anywhere ends it, children included */
const DEADLINE_MS = { quick: 120_000, full: 20 * 60_000 };

interface Options {
  quick: boolean;
  profile: boolean;
  outDir: string;
  without: Set<string>;
  /** node flags for tokenshim's processes (`--node-flags="--max-semi-space-size=4"`) */
  nodeFlags: string[];
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      out: { type: 'string' },
      without: { type: 'string', default: '' },
      'node-flags': { type: 'string', default: '' },
    },
  });
  return {
    quick: values.quick ?? false,
    profile: values.profile ?? false,
    outDir: values.out ?? join(repoRoot, 'bench', 'results'),
    without: new Set((values.without ?? '').split(',').filter(Boolean)),
    nodeFlags: (values['node-flags'] ?? '').split(/\s+/).filter(Boolean),
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const settings: Settings = { quick: opts.quick, ...(opts.quick ? QUICK : FULL) };
  const children = new ChildProcesses();
  const deadline = setTimeout(
    () => {
      console.error('bench: time limit reached, stopping');
      children.killAll();
      process.exit(1);
    },
    opts.quick ? DEADLINE_MS.quick : DEADLINE_MS.full,
  );
  deadline.unref();
  const startedAt = Date.now();
  const progress = (line: string): void =>
    console.error(`bench: [${((Date.now() - startedAt) / 1000).toFixed(1)} s] ${line}`);
  const notes: string[] = [];
  useTokenshimNodeFlags(opts.nodeFlags);
  if (opts.nodeFlags.length > 0) {
    notes.push(`tokenshim ran with node flags \`${opts.nodeFlags.join(' ')}\` (--node-flags).`);
  }
  const work = mkdtempSync(join(tmpdir(), 'tokenshim-bench-'));

  const hasWrk = !opts.without.has('wrk') && (await installed('wrk'));
  const nginx = opts.without.has('nginx') ? undefined : await nginxVersion();
  const load: LoadGenerator = hasWrk ? await createWrk(children) : createAutocannon();
  if (!hasWrk)
    notes.push(
      'wrk is not installed (`apt-get install wrk`): autocannon generated the load, in the bench process.',
    );
  if (!nginx)
    notes.push(
      'nginx is not installed (`apt-get install nginx`): its row is skipped and no ratio to nginx is given.',
    );

  // before any process of ours runs: the load average is the neighbours'
  const machine = describeMachine(nginx, load.name);
  const upstream = await children.fork<UpstreamReady>(
    fileURLToPath(new URL('./upstream-process.js', import.meta.url)),
    [String(settings.rolloverTtlSeconds)],
  );
  const u = upstream.ready;
  const upstreamUrl = `http://127.0.0.1:${u.upstreamPort}`;
  // nginx, http-proxy and the direct client cannot refresh: they get one hour-long token
  const authorization = `Bearer ${await clientCredentialsToken(u)}`;

  const profileName = `tokenshim-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`;
  const started: Contestant[] = [];
  const skipped = new Map<ContestantName, string>();
  /** contestants that stopped working during the rounds: their completed rounds still count */
  const failed = new Map<ContestantName, string>();
  let tokenshim: NodeChild<ProxyReady> | undefined;

  /** a node proxy of bench/contestants/ attaching the static token */
  const startNodeProxy = async (name: ContestantName, module: string): Promise<Contestant> => {
    const child = await children.fork<ProxyReady>(
      fileURLToPath(new URL(`./contestants/${module}`, import.meta.url)),
      [upstreamUrl, authorization],
    );
    return {
      name,
      baseUrl: child.ready.url,
      pid: child.pid,
      exitReport: () => child.exitReport(),
      close: () => child.close(),
    };
  };
  const contestantStarters: Record<ContestantName, () => Promise<Contestant>> = {
    direct: async () => ({
      name: 'direct',
      baseUrl: upstreamUrl,
      headers: { Authorization: authorization },
      close: async () => {},
    }),
    tokenshim: async () => {
      tokenshim = await startTokenshimProcess(
        children,
        mkdtempSync(join(work, 'tokenshim-')),
        [benchDsnSection('bench', u.steadyTokenEndpoint, u)],
        opts.profile ? { dir: opts.outDir, name: profileName } : undefined,
      );
      const child = tokenshim;
      return {
        name: 'tokenshim',
        baseUrl: `${child.ready.url}/bench`,
        pid: child.pid,
        exitReport: () => child.exitReport(),
        close: () => child.close(),
      };
    },
    nginx: async () => {
      if (!nginx) throw new Error('not installed');
      const n = await startNginx(children, join(work, 'nginx'), u.upstreamPort, authorization);
      return { name: 'nginx', baseUrl: n.url, pid: n.pid, close: () => n.close() };
    },
    'http-proxy': () => startNodeProxy('http-proxy', 'http-proxy-process.js'),
    'undici-floor': () => startNodeProxy('undici-floor', 'undici-floor-process.js'),
  };
  for (const name of CONTESTANTS) {
    try {
      const c = await contestantStarters[name]();
      const problem = await checkContestant(c, UPSTREAM_PATHS.small);
      if (problem) {
        await c.close();
        throw new Error(problem);
      }
      started.push(c);
    } catch (e) {
      skipped.set(name, (e as Error).message.split('\n')[0]!.slice(0, 300));
      progress(`${name} skipped: ${(e as Error).message}`);
    }
  }

  if (!settings.quick) {
    // every path of every contestant, so that no measured round pays for JIT compilation (a
    // cold node process spends several times the CPU per request in its first seconds)
    progress('warming up');
    for (const workload of WORKLOADS) {
      for (const c of started)
        await load.run({ ...workloadSpec(workload, c, settings), durationSeconds: 2 });
    }
  }

  const tokenshimContestant = started.find((c) => c.name === 'tokenshim');
  const roundsSampler = tokenshimContestant?.pid
    ? new RssSampler(tokenshimContestant.pid).start()
    : undefined;
  // a pool may open up to one upstream connection per client connection, and a few client
  // sockets may still be closing; a leak adds about a round's connections every round
  const descriptorLeaks = watchDescriptors(started, 2 * settings.connections);
  const throughput = await runThroughputRounds(started, load, upstream, settings, progress);
  const roundsPeak = roundsSampler?.stop() ?? 0;
  notes.push(...descriptorLeaks());
  for (const [name, why] of throughput.failures) failed.set(name, why);

  const sideBySide: SideBySideResult[] = [];
  for (const { pair, workload } of SIDE_BY_SIDE_PAIRS) {
    const [a, b] = pair.map((name) => started.find((c) => c.name === name && !failed.has(name)));
    const label = `${pair[0]} / ${pair[1]}`;
    if (!a || !b) {
      notes.push(`No side-by-side ${label} row: ${a ? pair[1] : pair[0]} did not run to the end.`);
      continue;
    }
    try {
      sideBySide.push(await runSideBySide(a, b, workload, load, settings, progress));
    } catch (e) {
      notes.push(`The side-by-side ${label} row failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  for (const c of started) await c.close();

  let memory: MemoryResult | undefined;
  if (tokenshimContestant && !throughput.failures.has('tokenshim')) {
    const fresh = async (): Promise<FreshTokenshim> => {
      const child = await startTokenshimProcess(children, mkdtempSync(join(work, 'tokenshim-')), [
        benchDsnSection('bench', u.steadyTokenEndpoint, u),
      ]);
      return {
        pid: child.pid,
        gatewayUrl: `${child.ready.url}/bench`,
        memoryUsage: () => child.request<NodeJS.MemoryUsage>('memory'),
        close: () => child.close(),
      };
    };
    try {
      memory = await runMemoryScenarios(fresh, settings, roundsPeak, progress);
    } catch (e) {
      notes.push(`The memory scenarios failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  let profile: BenchResults['profile'];
  if (opts.profile && tokenshim) {
    const file = join(opts.outDir, profileName);
    try {
      profile = { file: relative(repoRoot, file), top: topSelfTime(file, repoRoot) };
    } catch (e) {
      notes.push(`the CPU profile could not be read: ${(e as Error).message}`);
    }
  }

  let jsonRewrite: JsonRewriteResult | undefined;
  if (!skipped.has('tokenshim') && !failed.has('tokenshim')) {
    try {
      jsonRewrite = await runJsonRewrite(children, upstream, load, work, settings, progress);
    } catch (e) {
      notes.push(`The JSON-rewrite rows could not run: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  let httpsConnect: HttpsConnectResult | undefined;
  if (!skipped.has('tokenshim') && !failed.has('tokenshim') && !opts.without.has('connect')) {
    try {
      httpsConnect = await runHttpsConnect(
        children,
        upstream,
        authorization,
        work,
        settings,
        progress,
      );
    } catch (e) {
      notes.push(
        `The HTTPS-through-CONNECT row could not run: ${(e as Error).message.split('\n')[0]}`,
      );
    }
  }

  let rollover: RolloverResult | undefined;
  if (!skipped.has('tokenshim') && !failed.has('tokenshim')) {
    try {
      rollover = await runRollover(children, upstream, load, settings, progress);
    } catch (e) {
      notes.push(`the rollover scenario failed: ${(e as Error).message}`);
    }
  }
  await upstream.close();
  await load.close();

  const contestants: ContestantResult[] = CONTESTANTS.map((name) => {
    const why = skipped.get(name);
    return {
      name,
      ...(why ? { skipped: why } : {}),
      ...(failed.has(name) ? { failed: failed.get(name)! } : {}),
      workloads: throughput.summaries.get(name) ?? {},
      upstreamTokens: throughput.upstreamTokens.get(name) ?? emptyCounts(),
    };
  });
  notes.push(
    'nginx runs one worker (`worker_processes 1`) with upstream keep-alive and streaming both ways ' +
      '(`proxy_buffering off`, `proxy_request_buffering off`): tokenshim is one node process, so one worker is the like-for-like comparison.',
    'http-proxy, nginx and undici-floor attach one static hour-long token (they cannot refresh); tokenshim gets its token from the local OAuth server (AuthenticationMethod=53).',
    "undici-floor is the least a node proxy built like tokenshim (node:http in front, an undici pool behind) can do: a few lines, no routing, token engine, header rules, metrics or logs (bench/contestants/undici-floor-process.ts). What tokenshim costs beyond it is its own; what it costs beyond nginx is node's and undici's.",
    "An expired-token request is one the upstream saw at or after the token's `exp` (whole seconds, as the OAuth server stamps it).",
  );
  if (settings.quick)
    notes.push(
      'Quick mode: one short round, small memory scenarios; the figures only show that the harness works.',
    );

  const results: BenchResults = {
    machine,
    settings,
    contestants,
    ...(rollover ? { rollover } : {}),
    ...(memory ? { memory } : {}),
    ...(httpsConnect ? { httpsConnect } : {}),
    ...(jsonRewrite ? { jsonRewrite } : {}),
    ...(sideBySide.length > 0 ? { sideBySide } : {}),
    targets: judgeTargets(contestants, rollover, memory, sideBySide),
    notes,
    ...(profile ? { profile } : {}),
  };
  const markdown = renderMarkdown(results);
  mkdirSync(opts.outDir, { recursive: true });
  const base = join(opts.outDir, settings.quick ? 'quick' : 'latest');
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown);
  console.log(markdown);
  progress(`results written to ${base}.json and ${base}.md`);
  rmSync(work, { recursive: true, force: true });
  clearTimeout(deadline);
}

/** One client_credentials token from the hour-long server, for the contestants without an engine. */
async function clientCredentialsToken(u: UpstreamReady): Promise<string> {
  const res = await fetch(u.steadyTokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: u.clientId,
      client_secret: u.clientSecret,
    }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token)
    throw new Error(`the local OAuth server refused a token (${res.status})`);
  return body.access_token;
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
  process.exit();
});
