/**
 * tokenshim as the bench runs it: `tokenshim serve --config <odbc.ini>` itself (lib/cli/serve.ts:
 * the real server, token engine, metrics and access log at `info`), in a process of its own so its
 * CPU profile and RSS are its alone. Log lines go to this process's stdout, which the bench
 * opens on /dev/null: formatting and writing each line is counted, a disk is not.
 * DSNs with InterceptTLS=1 (the CONNECT row) use the local CA in $TOKENSHIM_HOME/ca, as serve
 * finds it.
 *
 *   node [--cpu-prof --cpu-prof-dir DIR] dist/bench/contestants/tokenshim-process.js <odbc.ini>
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { runServe } from '../../lib/cli/serve.js';
import type { TokenshimServer } from '../../lib/proxy/server.js';
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
  const { server, close } = await serve(configPath);

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
  // serve reports configuration errors on its stderr: keep the end of it to explain a failed start
  let recent = '';
  const log = new Writable({
    write: (chunk: Buffer | string, _encoding, done) => {
      if (!listening) recent = (recent + String(chunk)).slice(-4096);
      process.stdout.write(chunk, done);
    },
  });
  // serve's log lines go where a user's would: to a descriptor (lib/log/destination.ts buffers
  // them), here stdout, which the bench opens on /dev/null; the stream keeps startup errors
  Object.defineProperty(log, 'fd', { value: process.stdout.fd });
  let listening = false;
  let exited: Promise<number> | undefined;
  const server = await new Promise<TokenshimServer>((resolve, reject) => {
    exited = runServe(
      ['--config', configPath, '--port', '0', '--log-level', LOG_LEVEL, '--drain-seconds', '1'],
      {
        stdout: discard,
        stderr: log,
        env: ENV,
        cwd: process.cwd(),
        signals,
        onListening: (server) => {
          listening = true;
          resolve(server);
        },
      },
    );
    exited.then(
      (code) =>
        reject(new Error(`tokenshim serve exited with ${code} before listening:\n${recent}`)),
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

main().catch(failToParent);
