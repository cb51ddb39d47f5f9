import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import t, { type Test } from 'tap';
import type { BenchResults } from '../../bench/results-model.js';
import { repoRoot } from '../fixtures/repo.js';

// two short bench runs, each a few processes under load: far longer than a unit test
t.setTimeout(240_000);

const RUN = join(repoRoot, 'dist', 'bench', 'run.js');

interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
  results: BenchResults;
  outDir: string;
}

/** `npm run bench -- --quick` as a user runs it: a child process, results in a temp dir. */
async function quickBench(t: Test, extraArgs: string[]): Promise<BenchRun> {
  const out = mkdtempSync(join(tmpdir(), 'tokenshim-bench-test-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const { code, stdout, stderr } = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    const child = execFile(
      process.execPath,
      [RUN, '--quick', '--out', out, ...extraArgs],
      { cwd: repoRoot, timeout: 110_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (child.exitCode ?? 1) : 0, stdout, stderr }),
    );
  });
  const results = JSON.parse(readFileSync(join(out, 'quick.json'), 'utf8')) as BenchResults;
  // a quick run never touches the committed full results
  t.throws(() => readFileSync(join(out, 'latest.json')), 'quick mode does not write latest.json');
  return { code, stdout, stderr, results, outDir: out };
}

function tableRow(markdown: string, contestant: string): string | undefined {
  return markdown.split('\n').find((line) => line.startsWith(`| ${contestant} |`));
}

t.test('quick mode: the table, a tokenshim row, zero expired-token requests', async (t) => {
  const run = await quickBench(t, ['--profile', '--node-flags=--max-semi-space-size=8']);
  t.equal(run.code, 0, 'bench exits 0', { stderr: run.stderr });
  t.match(run.stdout, /### Throughput and latency/);
  t.match(
    run.stdout,
    /tokenshim ran with node flags `--max-semi-space-size=8`/,
    '--node-flags reach tokenshim and are noted',
  );
  t.match(run.stdout, /\| contestant \| small GET req\/s \| x direct \| x nginx \|/);

  const tokenshim = run.results.contestants.find((c) => c.name === 'tokenshim');
  t.ok(tokenshim, 'a tokenshim result');
  t.equal(tokenshim?.skipped, undefined, `tokenshim ran (${tokenshim?.skipped ?? ''})`);
  t.equal(tokenshim?.failed, undefined, 'tokenshim kept working through the rounds', {
    failed: tokenshim?.failed,
  });
  t.ok((tokenshim?.workloads.smallGet?.requestsPerSecond ?? 0) > 0, 'tokenshim forwarded requests');
  t.equal(
    tokenshim?.upstreamTokens.expired,
    0,
    'no request reached the upstream with an expired token',
  );
  t.equal(tokenshim?.upstreamTokens.missing, 0, 'every request carried a token');
  t.ok((tokenshim?.upstreamTokens.ok ?? 0) > 0, 'the upstream checked tokenshim requests');
  const row = tableRow(run.stdout, 'tokenshim');
  t.ok(row, 'the markdown has a tokenshim row');
  t.notMatch(row ?? '', /skipped/);

  const floor = run.results.contestants.find((c) => c.name === 'undici-floor');
  t.equal(floor?.skipped, undefined, 'the undici-floor baseline ran');
  t.equal(floor?.upstreamTokens.missing, 0, 'the floor attaches the credential to every request');
  t.ok((floor?.workloads.smallGet?.cpuUsPerRequest ?? 0) > 0, 'its CPU per request is measured');
  t.match(run.stdout, /\| x undici-floor \|/, 'CPU is shown against it');
  const side = run.results.sideBySide?.[0];
  t.same(side?.contestants, ['tokenshim', 'undici-floor'], 'tokenshim and the floor side by side');
  t.equal(side?.rounds.length, run.results.settings.sideBySideRounds, 'every round counted');
  t.ok((side?.cpu[0].userUs ?? 0) > 0 && (side?.cpu[1].systemUs ?? 0) > 0, 'user and system time');
  t.ok((side?.ratio.median ?? 0) > 0, 'with the ratio of their CPU per request');
  t.match(run.stdout, /### CPU per request side by side/);
  t.match(run.stdout, /\| small GET CPU per request <= 1\.10x undici-floor \(side by side\) \| \d/);
  t.notMatch(
    run.stdout,
    /(tokenshim|undici-floor) held \d+ more open descriptors/,
    'neither tokenshim nor the floor keeps connections its clients abandoned',
  );
  t.ok(
    (run.results.rollover?.tokenRequestsLowerBound ?? 0) > 0,
    'the rollover carries the fewest token requests whole-second exp allows',
  );

  t.ok(run.results.rollover, 'the rollover scenario ran');
  t.equal(run.results.rollover?.upstreamTokens.expired, 0, 'no expired token at rollover');
  t.ok(
    (run.results.rollover?.tokenRequests ?? 0) >= 2,
    'tokens were renewed during the rollover run',
  );
  t.ok(
    (run.results.memory?.upload.transferred ?? 0) === run.results.settings.streamBytes,
    'the upload arrived whole',
  );
  t.ok(
    (run.results.memory?.download.transferred ?? 0) === run.results.settings.streamBytes,
    'the download arrived whole',
  );
  t.ok(run.results.targets.length > 0, 'targets are listed');
  t.match(run.stdout, /not asserted \(quick\)/, 'quick mode does not judge targets');

  const connect = run.results.httpsConnect;
  t.ok(connect, 'the HTTPS-through-CONNECT row ran');
  t.ok((connect?.connect.requestsPerSecond ?? 0) > 0, 'requests went through CONNECT');
  t.equal(
    (connect?.upstreamTokens.missing ?? -1) + (connect?.upstreamTokens.expired ?? -1),
    0,
    'every decrypted request reached the upstream with a valid token',
  );

  const rewrite = run.results.jsonRewrite;
  t.ok(rewrite, 'the JSON-rewrite rows ran');
  for (const row of ['largeJson', 'smallJson', 'smallText'] as const) {
    for (const dsn of ['rewrite', 'plain'] as const)
      t.equal(rewrite?.rows[row][dsn].non2xx, 0, `${row} via ${dsn}: every answer a success`);
  }
  t.ok((rewrite?.rows.smallText.rewrite.requestsPerSecond ?? 0) > 0, 'the rows carry figures');
  t.match(run.stdout, /### JSON body rewriting/);

  t.ok(run.results.profile, '--profile summarises the CPU profile');
  t.ok((run.results.profile?.top.length ?? 0) > 0, 'with the top self-time functions');
  t.match(run.stdout, /### tokenshim CPU profile/);
  t.ok(
    existsSync(join(run.outDir, basename(run.results.profile?.file ?? 'missing'))),
    'the .cpuprofile is kept',
  );

  // the static token the direct/nginx/http-proxy contestants carry is a secret too
  const direct = run.results.contestants.find((c) => c.name === 'direct');
  t.equal(direct?.upstreamTokens.expired, 0);
  t.notMatch(run.stdout + run.stderr, /Bearer [A-Za-z0-9_-]{20,}/, 'no access token is printed');
});

t.test('without nginx and wrk: autocannon, and the nginx row says why it is missing', async (t) => {
  // connect: that row has its own tests, and leaving it out keeps this run short
  const run = await quickBench(t, ['--without', 'nginx,wrk,connect']);
  t.equal(run.code, 0, 'bench exits 0', { stderr: run.stderr });
  t.match(run.results.machine.loadGenerator, /^autocannon /);
  const nginx = run.results.contestants.find((c) => c.name === 'nginx');
  t.match(nginx?.skipped ?? '', /not installed/);
  t.match(tableRow(run.stdout, 'nginx') ?? '', /skipped: not installed/);
  t.match(run.stdout, /nginx is not installed \(`apt-get install nginx`\)/);
  t.match(run.stdout, /wrk is not installed/);
  const tokenshim = run.results.contestants.find((c) => c.name === 'tokenshim');
  t.equal(tokenshim?.skipped, undefined);
  t.equal(tokenshim?.upstreamTokens.expired, 0);
  t.match(run.stdout, /nginx[^\n]*\| not measured \|/, 'targets against nginx are not measured');
});
