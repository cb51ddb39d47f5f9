import type { TokenEvent } from '../auth/token-events.js';
import type { TokenStore } from '../auth/stores/token-store.js';
import { createCredentialProvider } from '../auth/provider.js';
import type { Clock } from '../clock.js';
import type { DsnConfig } from '../config/dsn.js';
import { createAccessLog } from '../log/access-log.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { logTokenEvent } from '../log/token-log.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { adminRoutes } from '../proxy/admin/index.js';
import type { ClientTimeouts } from '../proxy/client-timeouts.js';
import type { ConnectHandler, ConnectHost } from '../proxy/connect/types.js';
import type { ExchangeObserver } from '../proxy/forward/exchange.js';
import { startServer, type StartServerOptions, type TokenshimServer } from '../proxy/server.js';

export interface StartTokenshimOptions {
  readonly dsns: readonly DsnConfig[];
  /** default 127.0.0.1; anything not loopback needs allowRemote */
  readonly host?: string;
  /** default 8790; 0 picks a free port */
  readonly port?: number;
  readonly allowRemote?: boolean;
  /** names clients use for this machine (--accept-host) */
  readonly acceptHosts?: readonly string[];
  /** serve https (--tls-cert/--tls-key, --tls-pfx) */
  readonly tls?: StartServerOptions['tls'];
  readonly logger?: Logger;
  /** the config file the DSNs came from: the default token stores sit beside it */
  readonly configPath?: string;
  /** what SIGHUP and POST /_tokenshim/reload read */
  readonly reloadConfig?: () => Promise<readonly DsnConfig[]>;
  /** HTTP(S)_PROXY / NO_PROXY for upstream calls, TOKENSHIM_HOME for the CA; default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** the local CA for InterceptTLS; default $TOKENSHIM_HOME/ca, ~/.tokenshim/ca */
  readonly caDir?: string;
  /** where every DSN's tokens are kept; default each DSN's TokenStore (a file beside the config) */
  readonly store?: TokenStore;
  readonly clock?: Clock;
  /** prom-client's process metrics in /_tokenshim/metrics; default true */
  readonly processMetrics?: boolean;
  /** how long /_tokenshim/ready waits for a DSN's token; default 10 s */
  readonly readyTokenTimeoutMs?: number;
  /** how long clients may take to send headers, and stay silent; default PROXY_DEFAULTS */
  readonly clientTimeouts?: Partial<ClientTimeouts>;
}

/**
 * tokenshim as `tokenshim serve` runs it, assembled in one place: the metrics and logs that
 * observe it, a token engine per DSN that reports to them, the admin routes, the CONNECT handler
 * when a DSN asks for one, and the proxy itself. Nothing is attached after the start.
 */
export async function startTokenshim(opts: StartTokenshimOptions): Promise<TokenshimServer> {
  const logger = opts.logger ?? silentLogger;
  const env = opts.env ?? process.env;

  const metrics = new ProxyMetrics({ clock: opts.clock, processMetrics: opts.processMetrics });
  for (const dsn of opts.dsns) metrics.forDsn(dsn.name);
  const accessLog = createAccessLog(logger);
  const tokenLog = logger.child({ component: 'token' });
  const onEvent = (e: TokenEvent): void => {
    metrics.tokenEvent(e);
    accessLog?.tokenEvent(e);
    logTokenEvent(tokenLog, e);
  };
  const observer: ExchangeObserver = accessLog
    ? {
        exchangeEnded(e) {
          metrics.exchangeEnded(e);
          accessLog.exchangeEnded(e);
        },
      }
    : metrics;

  return startServer({
    dsns: opts.dsns,
    host: opts.host,
    port: opts.port,
    allowRemote: opts.allowRemote,
    ...(opts.acceptHosts === undefined ? {} : { acceptHosts: opts.acceptHosts }),
    ...(opts.tls === undefined ? {} : { tls: opts.tls }),
    logger,
    ...(opts.clientTimeouts === undefined ? {} : { clientTimeouts: opts.clientTimeouts }),
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    configPath: opts.configPath,
    reloadConfig: opts.reloadConfig,
    env,
    observer,
    accessObserver: metrics,
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    createProvider: (dsn) =>
      createCredentialProvider(dsn, {
        logger,
        onEvent,
        ...(opts.configPath === undefined ? {} : { configPath: opts.configPath }),
        ...(opts.store === undefined ? {} : { store: opts.store }),
        ...(opts.clock === undefined ? {} : { clock: opts.clock }),
      }),
    adminRoutes: adminRoutes({
      metrics,
      clock: opts.clock,
      readyTokenTimeoutMs: opts.readyTokenTimeoutMs,
    }),
    createConnectHandler: await connectHandlerFor(opts.dsns, { env, caDir: opts.caDir, logger }),
  });
}

/**
 * CONNECT is decrypted (InterceptTLS) or tunnelled (TunnelOtherHosts) only when a DSN asks for it
 * at startup; otherwise the proxy keeps its 501 that points at the gateway URL. The handler and
 * the CA are loaded only then: certificate generation (@peculiar/x509) costs memory nobody else needs.
 */
async function connectHandlerFor(
  dsns: readonly DsnConfig[],
  opts: { env: NodeJS.ProcessEnv; caDir: string | undefined; logger: Logger },
): Promise<((host: ConnectHost) => ConnectHandler) | undefined> {
  if (!dsns.some((d) => d.interceptTls || d.tunnelOtherHosts)) return undefined;
  const { loadCaForInterception } = await import('../tls/ca-store.js');
  const { interceptingConnectHandler } = await import('../proxy/connect/connect-handler.js');
  const ca = await loadCaForInterception(dsns, {
    env: opts.env,
    ...(opts.caDir === undefined ? {} : { dir: opts.caDir }),
    warn: (message) => opts.logger.warn(message),
  });
  return interceptingConnectHandler({ ca, logger: opts.logger });
}
