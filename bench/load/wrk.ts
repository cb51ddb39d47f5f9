import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcesses } from '../child-processes.js';
import type { LoadGenerator, LoadResult, LoadSpec } from './load-generator.js';

const RESULT_PREFIX = 'BENCH_RESULT ';

/**
 * wrk's Lua hooks: a POST body of BENCH_POST_BYTES when set (wrk has no flag for a body), and a
 * `done` that prints the summary as one JSON line, exact percentiles included, instead of wrk's
 * rounded human output.
 */
const SCRIPT = `
local post_bytes = tonumber(os.getenv("BENCH_POST_BYTES") or "0")
if post_bytes > 0 then
  wrk.method = "POST"
  wrk.body = string.rep("p", post_bytes)
  wrk.headers["Content-Type"] = "application/octet-stream"
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '${RESULT_PREFIX}{"requests":%d,"durationUs":%d,"socketErrors":%d,"non2xx":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

interface WrkSummary {
  requests: number;
  durationUs: number;
  socketErrors: number;
  non2xx: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * wrk with one thread: on a 2-core machine the load generator must leave the other core to the
 * contestant and the upstream; one wrk thread still outruns any of them on loopback.
 */
export async function createWrk(children: ChildProcesses): Promise<LoadGenerator> {
  const version = await new Promise<string>((resolve) =>
    execFile('wrk', ['-v'], (_e, stdout, stderr) =>
      resolve(`${stdout}${stderr}`.split('\n')[0] ?? ''),
    ),
  );
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-bench-wrk-'));
  const script = join(dir, 'bench.lua');
  writeFileSync(script, SCRIPT);
  return {
    name: version.replace(/\s+Copyright.*$/, '').trim() || 'wrk',
    async run(spec: LoadSpec): Promise<LoadResult> {
      const args = [
        '-t1',
        `-c${spec.connections}`,
        `-d${Math.max(1, Math.round(spec.durationSeconds))}s`,
      ];
      args.push('--timeout', '10s', '-s', script);
      for (const [k, v] of Object.entries(spec.headers ?? {})) args.push('-H', `${k}: ${v}`);
      args.push(spec.url);
      const child = children.spawn('wrk', args, {
        env: { ...process.env, BENCH_POST_BYTES: String(spec.postBytes ?? 0) },
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      // bounded: wrk stops itself after -d, this only guards against a hang
      const watchdog = setTimeout(() => child.kill('SIGKILL'), (spec.durationSeconds + 20) * 1000);
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      clearTimeout(watchdog);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line)
        throw new Error(`wrk failed (${code}): ${stderr.trim() || stdout.trim()}`);
      const s = JSON.parse(line.slice(RESULT_PREFIX.length)) as WrkSummary;
      const durationSeconds = s.durationUs / 1e6;
      return {
        requests: s.requests,
        durationSeconds,
        requestsPerSecond: s.requests / durationSeconds,
        latencyUs: { p50: s.p50, p90: s.p90, p99: s.p99, max: s.max },
        non2xx: s.non2xx,
        socketErrors: s.socketErrors,
      };
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
