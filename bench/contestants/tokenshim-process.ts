/**
 * tokenshim as the bench runs it: the real server (lib/proxy/server.ts) with the real token
 * engine, configured from an odbc.ini, logging at `info` to stdout as `tokenshim serve` would
 * (the bench discards the stream, so the cost of formatting lines is counted, not the disk's).
 * A process of its own, so its CPU profile and RSS are its alone.
 *
 *   node [--cpu-prof --cpu-prof-dir DIR] dist/bench/contestants/tokenshim-process.js <odbc.ini>
 */
import type { DsnConfig } from '../../lib/config/dsn.js';
import { loadConfig } from '../../lib/config/load.js';
import { createLogger } from '../../lib/log/logger.js';
import { startServer } from '../../lib/proxy/server.js';
import { failToParent, serveParent } from '../ipc.js';

export interface ProxyReady {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

export interface TokenshimStatus {
  readonly tokenRequests: Readonly<Record<string, number>>;
}

async function main(): Promise<void> {
  const configPath = process.argv[2];
  if (!configPath) throw new Error('usage: tokenshim-process.js <odbc.ini>');
  const loaded = await loadConfig({ configPath });
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0)
    throw new Error(errors.map((p) => `${p.dsn ?? ''} ${p.message}`).join('\n'));

  const server = await startServer({
    ...(loaded.dsns.some((d) => d.interceptTls)
      ? { createConnectHandler: await interceptingConnect(loaded.dsns) }
      : {}),
    dsns: loaded.dsns,
    host: '127.0.0.1',
    port: 0,
    configPath,
    logger: createLogger({ level: process.env.TOKENSHIM_BENCH_LOG_LEVEL ?? 'info' }),
    // the bench's upstream is plain loopback: an HTTP_PROXY in the caller's environment must not apply
    env: {},
  });
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
    () => server.close({ drainMs: 1_000 }),
  );
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
