import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type { DsnConfig } from '../../config/dsn.js';
import { CODES, ConnectRefusedError, LocalCaError, type TokenshimError } from '../../errors.js';
import { sendProblem } from '../../http/problem.js';
import { LeafCertificateCache } from '../../tls/leaf-cache.js';
import type { LocalCa } from '../../tls/local-ca.js';
import { answerClientError } from '../client-errors.js';
import {
  applyClientTimeouts,
  clientServerOptions,
  type ClientTimeouts,
} from '../client-timeouts.js';
import { PROXY_DEFAULTS } from '../defaults.js';
import { parseConnectTarget } from './target.js';
import type { ConnectContext, DecryptedTarget, ServeDecrypted } from './types.js';

/** One intercepted CONNECT: the DSN whose credentials its requests get, and where they go. */
export interface InterceptedSession extends DecryptedTarget {
  readonly dsn: DsnConfig;
}

export interface TlsInterceptorOptions {
  /** the local CA; without one, CONNECTs to InterceptTLS hosts are answered 502 TOKENSHIM_CA_MISSING */
  readonly ca: LocalCa | undefined;
  /** leaf certificates; by default a cache over `ca` with LEAF_CACHE_DEFAULTS */
  readonly leafCertificates?: LeafCertificateCache | undefined;
  readonly serveDecrypted: ServeDecrypted;
  readonly context: ConnectContext;
  /** the listeners' client timeouts: decrypted connections are client connections too */
  readonly clientTimeouts: ClientTimeouts;
}

/**
 * Terminates TLS for a DSN's host with a leaf certificate from the local CA, then serves the
 * decrypted HTTP/1.1 requests (keep-alive included) through one in-process http.Server whose
 * connections are the TLS sockets: the gateway's forwarding path attaches the credentials.
 */
export class TlsInterceptor {
  readonly #ca: LocalCa | undefined;
  readonly #leaves: LeafCertificateCache | undefined;
  readonly #context: ConnectContext;
  readonly #sessions = new WeakMap<object, InterceptedSession>();
  readonly #decrypted;

  constructor(opts: TlsInterceptorOptions) {
    this.#ca = opts.ca;
    this.#leaves =
      opts.leafCertificates ?? (opts.ca ? new LeafCertificateCache(opts.ca) : undefined);
    this.#context = opts.context;
    this.#decrypted = createServer(
      {
        maxHeaderSize: PROXY_DEFAULTS.maxHeaderSizeBytes,
        ...clientServerOptions(opts.clientTimeouts),
      },
      (req, res) => this.#onDecryptedRequest(req, res, opts.serveDecrypted),
    );
    applyClientTimeouts(this.#decrypted, opts.clientTimeouts, true);
    this.#decrypted.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      this.#context.logger.debug(
        { err: err.message },
        'malformed or timed-out request inside an intercepted connection',
      );
      answerClientError(err, socket);
    });
  }

  async intercept(
    socket: Duplex,
    head: Buffer,
    session: InterceptedSession,
    target: string,
  ): Promise<void> {
    const { dsn, host } = session;
    const ctx = this.#context;
    const logger = ctx.logger;
    if (!this.#ca || !this.#leaves) {
      ctx.refuse(
        socket,
        target,
        new LocalCaError(
          CODES.CA_MISSING,
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
      context = await this.#leaves.secureContextFor(host);
    } catch (cause) {
      logger.error(
        { target, dsn: dsn.name, err: (cause as Error).message },
        'leaf certificate failed',
      );
      ctx.refuse(
        socket,
        target,
        new LocalCaError(
          CODES.CA_INVALID,
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
    ctx.track(tls);
    this.#sessions.set(tls, session);
    ctx.report({ target, outcome: 'intercepted', dsn: dsn.name });
    logger.debug({ target, dsn: dsn.name }, 'CONNECT intercepted');
    this.#decrypted.emit('connection', tls);
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => this.#decrypted.close(() => resolve()));
  }

  #onDecryptedRequest(req: IncomingMessage, res: ServerResponse, serve: ServeDecrypted): void {
    const session = this.#sessions.get(req.socket);
    if (!session) {
      res.destroy();
      return;
    }
    const problem = checkDecryptedRequest(req, session);
    if (problem) {
      // the client must open a new connection for another host (RFC 9110 7.4)
      res.shouldKeepAlive = false;
      sendProblem(res, problem);
      return;
    }
    serve(session.dsn, req, res, {
      host: session.host,
      port: session.port,
      origin: session.origin,
    });
  }
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
