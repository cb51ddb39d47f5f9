/**
 * tokenshim as the bench runs it: `tokenshim serve --config <odbc.ini>` itself (lib/cli/serve.ts:
 * the real server, token engine, metrics and access log at `info`), in a process of its own so its
 * CPU profile and RSS are its alone. Log lines go to this process's stdout, which the bench
 * opens on /dev/null: formatting and writing each line is counted, a disk is not.
 *
 * DSNs with InterceptTLS=1 (the CONNECT row) are served by startServer with the CONNECT
 * interceptor wired here, as long as `serve` does not wire it itself.
 *
 *   node [--cpu-prof --cpu-prof-dir DIR] dist/bench/contestants/tokenshim-process.js <odbc.ini>
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { runServe } from '../../lib/cli/serve.js';
import type { DsnConfig } from '../../lib/config/dsn.js';
import { loadConfig } from '../../lib/config/load.js';
import { createLogger } from '../../lib/log/logger.js';
import { startServer, type TokenshimServer } from '../../lib/proxy/server.js';
import { failToParent, serveParent } from '../ipc.js';

export interface ProxyReady {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

export interface TokenshimStatus {
  readonly tokenRequests: Readonly<Record<string, number>>;
}

const LOG_LEVEL = process.env.TOKENSHIM_BENCH_LOG_LEVEL ?? 'info';
// the bench's upstream is plain loopback: an HTTP_PROXY in the caller's environment must not apply
const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  HTTP_PROXY: '',
  HTTPS_PROXY: '',
  http_proxy: '',
  https_proxy: '',
};

async function main(): Promise<void> {
  const configPath = process.argv[2];
  if (!configPath) throw new Error('usage: tokenshim-process.js <odbc.ini>');
  const loaded = await loadConfig({ configPath });
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0)
    throw new Error(errors.map((p) => `${p.dsn ?? ''} ${p.message}`).join('\n'));
  const { server, close } = loaded.dsns.some((d) => d.interceptTls)
    ? await startIntercepting(loaded.dsns, configPath)
    : await serve(configPath);

  serveParent(
    { url: server.url } satisfies ProxyReady,
    {
      memory: (): NodeJS.MemoryUsage => process.memoryUsage(),
      status: (): TokenshimStatus => ({
        tokenRequests: Object.fromEntries(
          [...server.providers()].map(([name, p]) => [name, p.status().tokenRequests]),
        ),
      }),
    },
    close,
  );
}

/** `tokenshim serve`, resolving once it listens; `close` sends it SIGTERM and waits for its exit. */
async function serve(
  configPath: string,
): Promise<{ server: TokenshimServer; close: () => Promise<void> }> {
  const signals = new EventEmitter();
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  let exited: Promise<number> | undefined;
  const server = await new Promise<TokenshimServer>((resolve, reject) => {
    exited = runServe(
      ['--config', configPath, '--port', '0', '--log-level', LOG_LEVEL, '--drain-seconds', '1'],
      {
        stdout: discard,
        stderr: process.stdout,
        env: ENV,
        cwd: process.cwd(),
        signals,
        onListening: resolve,
      },
    );
    exited.then(
      (code) => reject(new Error(`tokenshim serve exited with ${code} before listening`)),
      reject,
    );
  });
  return {
    server,
    close: async () => {
      signals.emit('SIGTERM');
      await exited;
    },
  };
}

async function startIntercepting(
  dsns: readonly DsnConfig[],
  configPath: string,
): Promise<{ server: TokenshimServer; close: () => Promise<void> }> {
  const server = await startServer({
    createConnectHandler: await interceptingConnect(dsns),
    dsns,
    host: '127.0.0.1',
    port: 0,
    configPath,
    logger: createLogger({ level: LOG_LEVEL }),
    env: ENV,
  });
  return { server, close: () => server.close({ drainMs: 1_000 }) };
}

/**
 * CONNECT interception for DSNs with InterceptTLS=1, the way `tokenshim serve` sets it up: the
 * local CA from $TOKENSHIM_HOME/ca. Imported only here, so the plain rows do not load the TLS code.
 */
async function interceptingConnect(
  dsns: readonly DsnConfig[],
): Promise<NonNullable<Parameters<typeof startServer>[0]['createConnectHandler']>> {
  const { loadCaForInterception } = await import('../../lib/tls/ca-store.js');
  const { interceptingConnectHandler } = await import('../../lib/proxy/connect.js');
  const ca = await loadCaForInterception(dsns, {
    warn: (m) => {
      throw new Error(m);
    },
  });
  return interceptingConnectHandler({ ca });
}

main().catch(failToParent);
