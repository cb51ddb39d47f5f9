import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as connectTcp, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type { DsnConfig } from '../config/dsn.js';
import { ConnectRefusedError, LocalCaError, TokenshimError } from '../errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { LeafCertificateCache } from '../tls/leaf-cache.js';
import { PROXY_DEFAULTS } from './defaults.js';
import { localOrigin } from './local-origin.js';
import type { LocalCa } from '../tls/local-ca.js';

/**
 * CONNECT (HTTPS through a proxy, RFC 9110 9.3.6), issue 9. Three outcomes:
 * - the target is a DSN's host and the DSN has InterceptTLS=1: tokenshim answers 200, terminates
 *   TLS with a leaf certificate from its local CA and serves the decrypted requests through the
 *   gateway's own forwarding path (`serveDecrypted`), so credentials are attached exactly as there;
 * - any other target, when tunnelling is on (TunnelOtherHosts=1): bytes are relayed both ways
 *   untouched, no credentials, no decryption;
 * - otherwise 403 with a problem body naming the option that would open it.
 */

export const CONNECT_DEFAULTS = Object.freeze({
  /** how long a tunnel may take to reach its target before the client gets a 502 */
  tunnelConnectTimeoutMs: 10_000,
});

export type ConnectOutcome = 'intercepted' | 'tunnelled' | 'refused';

export interface ConnectEvent {
  /** `host:port` as the client asked for it */
  readonly target: string;
  readonly outcome: ConnectOutcome;
  readonly dsn?: string;
  /** for refusals: the problem's code and status */
  readonly code?: string;
  readonly status?: number;
}

export interface ConnectHandlerOptions {
  /** the DSN that may receive credentials for `https://host:port`, if any (see `matchDsnByHostPort`) */
  findDsnByHostPort(host: string, port: number): DsnConfig | undefined;
  /**
   * Serves one decrypted request for `dsn` through the gateway's forwarding path. `req.url` is the
   * request's path and query at `target.origin` (`/rest/v1/items?page=2`), not a gateway path;
   * the origin is the DSN's HostName or one of its AllowedHosts.
   */
  serveDecrypted(
    dsn: DsnConfig,
    req: IncomingMessage,
    res: ServerResponse,
    target: DecryptedTarget,
  ): void;
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
}

/** A `'connect'` listener for an http.Server; `close()` ends every tunnel and intercepted session. */
export interface ConnectHandler {
  (req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

/** where an intercepted connection's requests go */
export interface DecryptedTarget {
  readonly host: string;
  readonly port: number;
  /** `https://host[:port]`, as URL.origin spells it */
  readonly origin: string;
}

interface InterceptedSession extends DecryptedTarget {
  readonly dsn: DsnConfig;
}

export function createConnectHandler(opts: ConnectHandlerOptions): ConnectHandler {
  const logger = (opts.logger ?? silentLogger).child({ component: 'connect' });
  const leaves = opts.leafCertificates ?? (opts.ca ? new LeafCertificateCache(opts.ca) : undefined);
  const timeoutMs = opts.tunnelConnectTimeoutMs ?? CONNECT_DEFAULTS.tunnelConnectTimeoutMs;
  const live = new Set<Duplex>();
  const sessions = new WeakMap<object, InterceptedSession>();

  // Decrypted HTTP/1.1 from every intercepted connection lands here, keep-alive included.
  const decrypted = createServer(
    {
      maxHeaderSize: PROXY_DEFAULTS.maxHeaderSizeBytes,
      // as on the gateway: a long upload through the tunnel must not be cut at node's 300 s
      requestTimeout: 0,
    },
    (req, res) => {
      const session = sessions.get(req.socket);
      if (!session) {
        res.destroy();
        return;
      }
      const problem = checkDecryptedRequest(req, session);
      if (problem) {
        answerResponseWithProblem(res, problem);
        return;
      }
      opts.serveDecrypted(session.dsn, req, res, {
        host: session.host,
        port: session.port,
        origin: session.origin,
      });
    },
  );
  decrypted.on('clientError', (err, socket) => {
    logger.debug({ err: err.message }, 'malformed request inside an intercepted connection');
    socket.destroy();
  });

  const track = (stream: Duplex): void => {
    live.add(stream);
    stream.once('close', () => live.delete(stream));
  };

  const report = (event: ConnectEvent): void => {
    opts.onConnect?.(event);
    if (event.outcome === 'refused') opts.onRefuse?.(event);
  };

  const refuse = (socket: Duplex, target: string, error: TokenshimError): void => {
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
    answerSocketWithProblem(socket, error);
  };

  const intercept = async (
    socket: Duplex,
    head: Buffer,
    session: InterceptedSession,
    target: string,
  ): Promise<void> => {
    const { dsn, host } = session;
    if (!opts.ca || !leaves) {
      refuse(
        socket,
        target,
        new LocalCaError(
          'TOKENSHIM_CA_MISSING',
          `DSN "${dsn.name}" has InterceptTLS=1 but tokenshim has no local CA to sign a certificate for ${host}. ` +
            "Run `tokenshim ca init`, import the certificate `tokenshim ca path` prints into the client's trust store, " +
            'and restart tokenshim.',
          { dsn: dsn.name, status: 502 },
        ),
      );
      return;
    }
    let context;
    try {
      context = await leaves.secureContextFor(host);
    } catch (cause) {
      logger.error(
        { target, dsn: dsn.name, err: (cause as Error).message },
        'leaf certificate failed',
      );
      refuse(
        socket,
        target,
        new LocalCaError(
          'TOKENSHIM_CA_INVALID',
          `DSN "${dsn.name}": tokenshim could not sign a certificate for ${host} with its local CA. ` +
            'Check the log; `tokenshim ca init --force` makes a new CA.',
          { dsn: dsn.name, status: 502, cause },
        ),
      );
      return;
    }
    if (socket.destroyed) return;
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    // Bytes the client sent with its CONNECT (an early ClientHello) go back on the socket:
    // TLSSocket reads what is buffered there before it reads the native handle (node's
    // _tls_wrap initRead), which also covers bytes that arrived while the leaf was signed.
    if (head.length > 0) socket.unshift(head);
    const tls = new TLSSocket(socket, {
      isServer: true,
      secureContext: context,
      // HTTP/2 would bypass the HTTP/1.1 server the decrypted requests go to
      ALPNProtocols: ['http/1.1'],
    });
    tls.on('error', (err) => {
      // a client that does not trust the CA hangs up during the handshake: say which CA to import
      logger.warn(
        { target, dsn: dsn.name, err: err.message },
        'TLS with the client failed; does it trust the tokenshim CA (`tokenshim ca path`)?',
      );
      tls.destroy();
      socket.destroy();
    });
    tls.once('close', () => socket.destroy());
    track(tls);
    sessions.set(tls, session);
    report({ target, outcome: 'intercepted', dsn: dsn.name });
    logger.debug({ target, dsn: dsn.name }, 'CONNECT intercepted');
    decrypted.emit('connection', tls);
  };

  const tunnel = (
    socket: Duplex,
    head: Buffer,
    host: string,
    port: number,
    target: string,
    dsn?: DsnConfig,
  ): void => {
    if (dsn) {
      logger.warn(
        { target, dsn: dsn.name },
        'CONNECT to a DSN host is tunnelled without credentials: set InterceptTLS=1 on the DSN to attach them',
      );
    }
    const upstream = connectTcp({ host, port });
    track(upstream);
    let established = false;
    const timer = setTimeout(
      () => upstream.destroy(new Error(`no connection within ${timeoutMs} ms`)),
      timeoutMs,
    );
    upstream.once('connect', () => {
      clearTimeout(timer);
      if (socket.destroyed) {
        upstream.destroy();
        return;
      }
      established = true;
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
      report({ target, outcome: 'tunnelled', ...(dsn ? { dsn: dsn.name } : {}) });
      logger.debug({ target }, 'CONNECT tunnelled');
    });
    upstream.on('error', (err) => {
      clearTimeout(timer);
      if (established) {
        socket.destroy();
        return;
      }
      refuse(
        socket,
        target,
        new TokenshimError(
          'TOKENSHIM_TUNNEL_FAILED',
          `tokenshim could not reach ${target} to tunnel to it: ${err.message}. Check the host name, port and network.`,
          { status: 502, ...(dsn ? { dsn: dsn.name } : {}) },
        ),
      );
    });
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      clearTimeout(timer);
      // before the tunnel is up, the client is being sent a problem body: let it finish
      if (established) socket.destroy();
    });
  };

  const handler = ((req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    track(socket);
    socket.on('error', (err) => logger.debug({ err: err.message }, 'CONNECT client socket error'));
    const target = req.url ?? '';
    const parsed = parseConnectTarget(target);
    if (!parsed) {
      refuse(
        socket,
        target,
        new ConnectRefusedError(
          `CONNECT needs a target of the form host:port (RFC 9110 9.3.6), got "${target.slice(0, 100)}".`,
          { status: 400, target: target.slice(0, 100) },
        ),
      );
      return;
    }
    const { host, port } = parsed;
    const dsn = opts.findDsnByHostPort(host, port);
    if (dsn?.interceptTls) {
      void intercept(socket, head, { dsn, host, port, origin: httpsOrigin(host, port) }, target);
      return;
    }
    const tunnelling =
      typeof opts.tunnelOtherHosts === 'function' ? opts.tunnelOtherHosts() : opts.tunnelOtherHosts;
    if (tunnelling) {
      tunnel(socket, head, host, port, target, dsn);
      return;
    }
    refuse(
      socket,
      target,
      dsn
        ? new ConnectRefusedError(
            `CONNECT to ${target} is refused: DSN "${dsn.name}" does not have InterceptTLS=1, so tokenshim cannot ` +
              `attach its credentials to HTTPS sent through a proxy. Set InterceptTLS=1 on the DSN (after \`tokenshim ca init\`), ` +
              `or call ${localOrigin(socket)}/${dsn.name}/ instead of using tokenshim as a proxy.`,
            { dsn: dsn.name, target },
          )
        : new ConnectRefusedError(
            `CONNECT to ${target} is refused: it is not the host of any DSN. ` +
              'Set TunnelOtherHosts=1 on a DSN to let tokenshim pass other hosts through untouched (no credentials).',
            { target },
          ),
    );
  }) as ConnectHandler;

  handler.close = async () => {
    for (const stream of live) stream.destroy();
    live.clear();
    await new Promise<void>((resolve) => decrypted.close(() => resolve()));
  };
  return handler;
}

/**
 * Refuses decrypted requests that try to leave the CONNECT's host: an absolute-form target or a
 * Host header naming another host would otherwise carry the DSN's credentials to the DSN's upstream
 * for a request meant elsewhere (RFC 9110 7.4: 421 Misdirected Request).
 */
function checkDecryptedRequest(
  req: IncomingMessage,
  session: InterceptedSession,
): TokenshimError | undefined {
  if (!req.url?.startsWith('/')) {
    return new ConnectRefusedError(
      'Inside an intercepted CONNECT, requests must use a path (origin-form), not an absolute URL.',
      { dsn: session.dsn.name, status: 400 },
    );
  }
  const hostHeader = parseConnectTarget(withDefaultPort(req.headers.host ?? '', session.port));
  if (
    !hostHeader ||
    hostHeader.host.toLowerCase() !== session.host.toLowerCase() ||
    hostHeader.port !== session.port
  ) {
    return new ConnectRefusedError(
      `This connection was opened for ${session.host}:${session.port}; its requests must have that Host header.`,
      { dsn: session.dsn.name, status: 421 },
    );
  }
  return undefined;
}

function withDefaultPort(hostHeader: string, port: number): string {
  if (/:\d+$/.test(hostHeader) && !/^\[[^\]]*\]$/.test(hostHeader)) return hostHeader;
  return `${hostHeader}:${port}`;
}

/** `host:port` or `[v6]:port` into its parts; host names are lower-cased. */
export function parseConnectTarget(target: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/?#@[\]]+)):(\d{1,5})$/.exec(target);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  const v6 = match[1];
  if (v6 !== undefined) return isIP(v6) === 6 ? { host: v6.toLowerCase(), port } : undefined;
  return { host: (match[2] ?? '').toLowerCase(), port };
}

/** `https://host[:port]` as URL.origin writes it (default port dropped, IPv6 bracketed) */
export function httpsOrigin(host: string, port: number): string {
  return new URL(`https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`).origin;
}

/**
 * The DSN that may receive credentials for `https://host:port`: its HostName or one of its
 * AllowedHosts has that origin. An InterceptTLS=1 DSN wins; among those, one whose HostName
 * matches wins over one that only allows the host, then the first in the config.
 */
export function matchDsnByHostPort(
  dsns: readonly DsnConfig[],
): (host: string, port: number) => DsnConfig | undefined {
  return (host, port) => {
    let origin: string;
    try {
      origin = httpsOrigin(host, port);
    } catch {
      return undefined;
    }
    let best: DsnConfig | undefined;
    let bestRank = 0;
    for (const dsn of dsns) {
      const upstream = dsn.upstream?.protocol === 'https:' && dsn.upstream.origin === origin;
      if (!upstream && !dsn.allowedOrigins.includes(origin)) continue;
      const rank = (dsn.interceptTls ? 2 : 0) + (upstream ? 1 : 0);
      if (rank > bestRank || best === undefined) {
        best = dsn;
        bestRank = rank;
      }
    }
    return best;
  };
}

/**
 * TunnelOtherHosts is written in a DSN section (odbc.ini has no section for the proxy itself) but
 * it is a property of the listener: set on any DSN, it lets every non-intercepted CONNECT through.
 */
export function tunnelOtherHostsEnabled(dsns: readonly DsnConfig[]): boolean {
  return dsns.some((dsn) => dsn.tunnelOtherHosts);
}

/** What `startServer` needs of a proxy to plug the CONNECT handler in (lib/proxy/server.ts). */
export interface ConnectHost {
  /** the current DSNs (after reloads too) */
  dsns(): readonly DsnConfig[];
  handleDsnRequest(
    dsn: string,
    req: IncomingMessage,
    res: ServerResponse,
    upstreamPath: string,
    opts?: { origin?: string },
  ): void;
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
      serveDecrypted: (dsn, req, res, target) =>
        host.handleDsnRequest(dsn.name, req, res, req.url ?? '/', { origin: target.origin }),
    });
    opts.onCreated?.(handler);
    return handler;
  };
}

function problemBody(error: TokenshimError): string {
  return JSON.stringify(error.toProblem());
}

function answerSocketWithProblem(socket: Duplex, error: TokenshimError): void {
  if (socket.destroyed) return;
  const body = problemBody(error);
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

function answerResponseWithProblem(res: ServerResponse, error: TokenshimError): void {
  const body = problemBody(error);
  res.writeHead(error.status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}
