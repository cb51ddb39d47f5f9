/**
 * `npm run soak`: the rotation soak. tokenshim (`tokenshim serve`, its own process) in front of an
 * upstream that accepts only live tokens, its refresh tokens rotating through a token endpoint
 * that counts any consumed refresh token presented again (test/fixtures/fault-token-server.ts),
 * under a steady request rate on loopback. Every few seconds it prints tokenshim's RSS and open
 * file descriptors, the token requests, refresh-token reuse, and requests the upstream refused.
 *
 *   npm run soak                                  # 90 s, 200 req/s, 2 s tokens
 *   npm run soak -- --seconds 600 --rate 200      # the 10-minute soak
 *   npm run soak -- --faults                      # token endpoint 503s, 429s and slow answers too
 *
 * Exit status 0 when no refresh token was reused, the upstream refused no request (every token
 * tokenshim attached was live), and RSS in the last third stayed within 25% of the middle third;
 * 1 otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startCredentialUpstream } from '../test/fixtures/credential-upstream.js';
import {
  faultIniSection,
  startFaultTokenServer,
  type FaultTokenServer,
} from '../test/fixtures/fault-token-server.js';
import { repoRoot } from '../test/fixtures/repo.js';

interface SoakOptions {
  readonly seconds: number;
  readonly rate: number;
  readonly tokenSeconds: number;
  readonly sampleSeconds: number;
  readonly faults: boolean;
  readonly connections: number;
}

interface Sample {
  readonly at: number;
  readonly rssMb: number;
  readonly fds: number;
  readonly tokenRequests: number;
  readonly reuse: number;
  readonly requests: number;
  readonly refused: number;
  readonly failed: number;
}

function options(argv: string[]): SoakOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '90' },
      rate: { type: 'string', default: '200' },
      'token-seconds': { type: 'string', default: '2' },
      'sample-seconds': { type: 'string', default: '5' },
      connections: { type: 'string', default: '20' },
      faults: { type: 'boolean', default: false },
    },
  });
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} ${text}: a positive number`);
    return n;
  };
  return {
    seconds: positive('seconds', values.seconds),
    rate: positive('rate', values.rate),
    tokenSeconds: positive('token-seconds', values['token-seconds']),
    sampleSeconds: positive('sample-seconds', values['sample-seconds']),
    connections: positive('connections', values.connections),
    faults: values.faults,
  };
}

/** tokenshim serve on a free port; resolves with its URL once it listens. */
async function startTokenshim(config: string): Promise<{ child: ChildProcess; url: string }> {
  const bin = join(repoRoot, 'dist', 'lib', 'cli', 'bin.js');
  const child = spawn(
    process.execPath,
    // errors only: the faults the soak injects are logged as warnings by design
    [bin, 'serve', '--config', config, '--port', '0', '--log-level', 'error'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`tokenshim exited (${code}):\n${out}`)));
  });
  child.stdout!.resume();
  return { child, url };
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Every 20 s: a 3 s window of 503s, one 429 with Retry-After, one answer held for 1.5 s. */
function injectFaults(ts: FaultTokenServer, startedAt: number): () => void {
  const timer = setInterval(() => {
    const phase = Math.floor((Date.now() - startedAt) / 1000) % 20;
    if (phase === 5) ts.setFault({ kind: 'status', status: 503 });
    else if (phase === 8) ts.clearFault();
    else if (phase === 10)
      ts.setFault({ kind: 'status', status: 429, retryAfterSeconds: 1 }, { times: 1 });
    else if (phase === 15) {
      ts.setFault({ kind: 'hold' }, { times: 1 });
      setTimeout(() => ts.releaseHeld(), 1_500).unref();
    }
  }, 1_000);
  return () => clearInterval(timer);
}

async function soak(opts: SoakOptions): Promise<boolean> {
  const teardowns: (() => unknown)[] = [];
  const t = { teardown: (fn: () => unknown) => void teardowns.push(fn) };
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-soak-'));
  try {
    const ts = await startFaultTokenServer(t, { accessTokenSeconds: opts.tokenSeconds });
    const up = await startCredentialUpstream(t, ts);
    const config = join(dir, 'odbc.ini');
    writeFileSync(config, faultIniSection('soak', ts, ts.issueRefreshToken(), up.origin), {
      mode: 0o600,
    });
    const { child, url } = await startTokenshim(config);
    const pid = child.pid!;
    const pool = new Pool(url, { connections: opts.connections, pipelining: 1 });
    const statuses = new Map<number, number>();
    let sent = 0;
    let inFlight = 0;
    let failed = 0;
    const started = Date.now();
    const stopFaults = opts.faults ? injectFaults(ts, started) : () => undefined;
    console.log(
      `soak: ${opts.seconds} s at ${opts.rate} req/s, ${opts.tokenSeconds} s tokens` +
        `${opts.faults ? ', token endpoint faults' : ''}; tokenshim pid ${pid}`,
    );
    console.log('   s   RSS MB  fds  token req  reuse  requests  refused  failed');

    const one = (): void => {
      sent++;
      inFlight++;
      pool
        .request({ path: '/soak/items', method: 'GET' })
        .then(async (res) => {
          await res.body.dump();
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        })
        .catch(() => failed++)
        .finally(() => inFlight--);
    };
    // paced by the clock, not by timer ticks (which come late on a busy machine); nothing is sent
    // while too much is in flight (a proxy slower than the rate), so the soak measures tokenshim
    // rather than a growing client queue
    const pacer = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1000) * opts.rate);
      while (sent < due && inFlight < opts.connections * 50) one();
    }, 10);

    const samples: Sample[] = [];
    const refused = (): number => up.uses.filter((u) => u.status !== 200).length;
    const sample = (): void => {
      const s: Sample = {
        at: Math.round((Date.now() - started) / 1000),
        rssMb: rssMb(pid),
        fds: fds(pid),
        tokenRequests: ts.tokenRequests,
        reuse: ts.reuse,
        requests: sent,
        refused: refused(),
        failed,
      };
      samples.push(s);
      console.log(
        `${String(s.at).padStart(4)}  ${s.rssMb.toFixed(1).padStart(7)}  ${String(s.fds).padStart(3)}` +
          `  ${String(s.tokenRequests).padStart(9)}  ${String(s.reuse).padStart(5)}` +
          `  ${String(s.requests).padStart(8)}  ${String(s.refused).padStart(7)}  ${String(s.failed).padStart(6)}`,
      );
    };
    const sampler = setInterval(sample, opts.sampleSeconds * 1000);
    await new Promise((resolve) => setTimeout(resolve, opts.seconds * 1000));
    clearInterval(pacer);
    clearInterval(sampler);
    stopFaults();
    ts.clearFault();
    ts.releaseHeld();
    while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    sample();
    await pool.close();
    child.kill('SIGTERM');
    await once(child, 'exit');

    const third = Math.max(1, Math.floor(samples.length / 3));
    const middle = samples.slice(third, 2 * third);
    const last = samples.slice(-third);
    const peak = (xs: Sample[]): number => Math.max(...xs.map((x) => x.rssMb));
    const growth = middle.length > 0 ? peak(last) / peak(middle) - 1 : 0;
    const end = samples.at(-1)!;
    const ok = end.reuse === 0 && end.refused === 0 && growth <= 0.25;
    const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`);
    console.log(
      [
        '',
        `requests      ${end.requests} in ${opts.seconds} s, ${Math.round(end.requests / opts.seconds)}/s (${byStatus.join(', ')}${failed ? `, ${failed} failed` : ''})`,
        `token requests ${end.tokenRequests} (${(end.tokenRequests / opts.seconds).toFixed(2)}/s for ${opts.tokenSeconds} s tokens)`,
        `reuse         ${end.reuse} refresh tokens presented twice`,
        `refused       ${end.refused} requests reached the upstream with a dead token`,
        `RSS           ${Math.min(...samples.map((x) => x.rssMb)).toFixed(1)}-${peak(samples).toFixed(1)} MB; last third vs middle third ${(growth * 100).toFixed(0)}%`,
        `fds           ${Math.min(...samples.map((x) => x.fds))}-${Math.max(...samples.map((x) => x.fds))}`,
        ok ? 'soak: ok' : 'soak: FAILED',
      ].join('\n'),
    );
    return ok;
  } finally {
    for (const fn of teardowns.reverse()) await fn();
    rmSync(dir, { recursive: true, force: true });
  }
}

soak(options(process.argv.slice(2))).then(
  (ok) => {
    process.exitCode = ok ? 0 : 1;
  },
  (e: unknown) => {
    console.error(`soak: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  },
);
