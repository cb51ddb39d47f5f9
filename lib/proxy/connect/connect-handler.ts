import { localOrigin } from './local-origin.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DsnConfig } from '../../config/dsn.js';
import type { TokenshimError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import type { LeafCertificateCache } from '../../tls/leaf-cache.js';
import type { LocalCa } from '../../tls/local-ca.js';
import { clientTimeouts, type ClientTimeouts } from '../client-timeouts.js';
import { judgeCrossSite } from '../routing/cross-site.js';
import { TlsInterceptor } from './intercept.js';
import { writeProblemToSocket } from '../../http/problem.js';
import { isLoopbackAddress } from '../../net/loopback.js';
import { badTargetError, notOpenedError, remoteTunnelError } from './refusal.js';
import {
  httpsOrigin,
  matchDsnByHostPort,
  parseConnectTarget,
  tunnelOtherHostsEnabled,
} from './target.js';
import { openTunnel } from './tunnel.js';
import type {
  ConnectContext,
  ConnectEvent,
  ConnectHandler,
  ConnectHost,
  ServeDecrypted,
} from './types.js';

/**
 * CONNECT (HTTPS through a proxy, RFC 9110 9.3.6). Three outcomes:
 * - the target is a DSN's host and the DSN has InterceptTLS=1: tokenshim answers 200, terminates
 *   TLS with a leaf certificate from its local CA and serves the decrypted requests through the
 *   gateway's own forwarding path (`serveDecrypted`), so credentials are attached exactly as there
 *   (intercept.ts);
 * - any other target, when tunnelling is on (TunnelOtherHosts=1) and the client is on this
 *   machine: bytes are relayed both ways untouched, no credentials, no decryption (tunnel.ts); for
 *   a client on another machine (--allow-remote) that would be an open relay;
 * - otherwise 403 with a problem body naming the option that would open it (refusal.ts).
 */

export const CONNECT_DEFAULTS = Object.freeze({
  /** how long a tunnel may take to reach its target before the client gets a 502 */
  tunnelConnectTimeoutMs: 10_000,
});

export interface ConnectHandlerOptions {
  /** the DSN that may receive credentials for `https://host:port`, if any (see `matchDsnByHostPort`) */
  findDsnByHostPort(host: string, port: number): DsnConfig | undefined;
  /**
   * Serves one decrypted request for `dsn` through the gateway's forwarding path. `req.url` is the
   * request's path and query at `target.origin` (`/rest/v1/items?page=2`), not a gateway path;
   * the origin is the DSN's HostName or one of its AllowedHosts.
   */
  serveDecrypted: ServeDecrypted;
  /** the local CA; without one, CONNECTs to InterceptTLS hosts are answered 502 TOKENSHIM_CA_MISSING */
  ca: LocalCa | undefined;
  /**
   * relay CONNECTs that are not intercepted instead of refusing them (see `tunnelOtherHostsEnabled`);
   * a function is asked on every CONNECT, so a config reload takes effect
   */
  tunnelOtherHosts: boolean | (() => boolean);
  /** leaf certificates; by default a cache over `ca` with LEAF_CACHE_DEFAULTS */
  leafCertificates?: LeafCertificateCache;
  logger?: Logger;
  /** every CONNECT's outcome, for metrics */
  onConnect?(event: ConnectEvent): void;
  /** every refused CONNECT (also reported to onConnect) */
  onRefuse?(event: ConnectEvent): void;
  tunnelConnectTimeoutMs?: number;
  /** how long a decrypted connection may take to send headers, and stay silent; default the proxy's defaults */
  clientTimeouts?: ClientTimeouts;
}

export function createConnectHandler(opts: ConnectHandlerOptions): ConnectHandler {
  const timeoutMs = opts.tunnelConnectTimeoutMs ?? CONNECT_DEFAULTS.tunnelConnectTimeoutMs;
  const live = new Set<Duplex>();
  const context = connectContext(opts, live);
  const interceptor = new TlsInterceptor({
    ca: opts.ca,
    leafCertificates: opts.leafCertificates,
    serveDecrypted: opts.serveDecrypted,
    context,
    clientTimeouts: opts.clientTimeouts ?? clientTimeouts(),
  });

  const handler = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    context.track(socket);
    socket.on('error', (err) =>
      context.logger.debug({ err: err.message }, 'CONNECT client socket error'),
    );
    const target = req.url ?? '';
    // browsers send CONNECT without Origin; one that says where it comes from is a page's
    const { refusal } = judgeCrossSite(req.rawHeaders, [], {
      route: `CONNECT ${target.slice(0, 100)}`,
    });
    if (refusal) return context.refuse(socket, target, refusal);
    const parsed = parseConnectTarget(target);
    if (!parsed) return context.refuse(socket, target, badTargetError(target));
    const { host, port } = parsed;
    const dsn = opts.findDsnByHostPort(host, port);
    if (dsn?.interceptTls) {
      const session = { dsn, host, port, origin: httpsOrigin(host, port) };
      void interceptor.intercept(socket, head, session, target);
      return;
    }
    const tunnelling =
      typeof opts.tunnelOtherHosts === 'function' ? opts.tunnelOtherHosts() : opts.tunnelOtherHosts;
    if (tunnelling && isLoopbackAddress(req.socket.remoteAddress))
      return openTunnel(context, socket, head, { host, port, target, dsn }, timeoutMs);
    if (tunnelling) return context.refuse(socket, target, remoteTunnelError(target));
    context.refuse(socket, target, notOpenedError(target, dsn, localOrigin(socket)));
  };

  return Object.assign(handler, {
    close: async (): Promise<void> => {
      for (const stream of live) stream.destroy();
      live.clear();
      await interceptor.close();
    },
  });
}

/** The log, the live streams and the outcome reporting every CONNECT of one handler shares. */
function connectContext(opts: ConnectHandlerOptions, live: Set<Duplex>): ConnectContext {
  const logger = (opts.logger ?? silentLogger).child({ component: 'connect' });
  const report = (event: ConnectEvent): void => {
    opts.onConnect?.(event);
    if (event.outcome === 'refused') opts.onRefuse?.(event);
  };
  return {
    logger,
    track(stream: Duplex): void {
      live.add(stream);
      stream.once('close', () => live.delete(stream));
    },
    report,
    refuse(socket: Duplex, target: string, error: TokenshimError): void {
      logger.info(
        { target, code: error.code, status: error.status, dsn: error.dsn },
        'CONNECT refused',
      );
      report({
        target,
        outcome: 'refused',
        code: error.code,
        status: error.status,
        ...(error.dsn === undefined ? {} : { dsn: error.dsn }),
      });
      writeProblemToSocket(socket, error);
    },
  };
}

/**
 * `startServer({ createConnectHandler: interceptingConnectHandler({ ca }) })`: CONNECT handling
 * wired to the proxy's DSNs (read on every CONNECT, so a reload applies) and to its gateway
 * forwarding path (handleDsnRequest) for decrypted requests. The handler is also returned through
 * `onCreated`, so whoever stops the proxy can `close()` the tunnels it holds.
 */
export function interceptingConnectHandler(
  opts: Omit<ConnectHandlerOptions, 'findDsnByHostPort' | 'serveDecrypted' | 'tunnelOtherHosts'> & {
    onCreated?(handler: ConnectHandler): void;
  },
): (host: ConnectHost) => ConnectHandler {
  return (host) => {
    const handler = createConnectHandler({
      ...opts,
      findDsnByHostPort: (h, p) => matchDsnByHostPort(host.dsns())(h, p),
      tunnelOtherHosts: () => tunnelOtherHostsEnabled(host.dsns()),
      clientTimeouts: host.clientTimeouts,
      serveDecrypted: (dsn, req, res, target) =>
        host.handleDsnRequest(dsn.name, req, res, req.url ?? '/', { origin: target.origin }),
    });
    opts.onCreated?.(handler);
    return handler;
  };
}
