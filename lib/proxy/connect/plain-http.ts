import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../log/logger.js';
import { answerClientError } from '../client-errors.js';
import {
  applyClientTimeouts,
  clientServerOptions,
  type ClientTimeouts,
} from '../client-timeouts.js';
import { PROXY_DEFAULTS } from '../defaults.js';
import type { PlainTunnel } from '../routing/tunnel-route.js';

/** TLS records start with this content type (a handshake): a client that meant https */
const TLS_HANDSHAKE = 0x16;

export interface PlainHttpTunnelsOptions {
  /** forwards one request read inside `tunnel` (the proxy's routing and Exchange) */
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    tunnel: PlainTunnel,
    expectContinue: boolean,
  ): void;
  readonly timeouts: ClientTimeouts;
  readonly logger: Logger;
}

/**
 * CONNECT tunnels that carry plain HTTP/1.1 (routing/tunnel-route.ts decides which): tokenshim
 * answers 200 and reads the requests inside with one in-process http.Server whose connections are
 * the tunnels' sockets, keep-alive included, under the same client timeouts as the listeners.
 */
export class PlainHttpTunnels {
  readonly #server: Server;
  readonly #tunnels = new WeakMap<object, PlainTunnel>();
  readonly #live = new Set<Duplex>();
  readonly #log: Logger;

  constructor(opts: PlainHttpTunnelsOptions) {
    this.#log = opts.logger;
    this.#server = createServer({
      maxHeaderSize: PROXY_DEFAULTS.maxHeaderSizeBytes,
      ...clientServerOptions(opts.timeouts),
    });
    // one more than accepted, so routing sees a request over the limit (node drops the excess)
    this.#server.maxHeadersCount = PROXY_DEFAULTS.maxHeaderCount + 1;
    applyClientTimeouts(this.#server, opts.timeouts, true);
    const serve = (req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void => {
      const tunnel = this.#tunnels.get(req.socket);
      if (tunnel === undefined) return void res.destroy();
      opts.serve(req, res, tunnel, expectContinue);
    };
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      serve(req, res, false),
    );
    this.#server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) =>
      serve(req, res, true),
    );
    this.#server.on(
      'clientError',
      (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
        if (err.rawPacket?.[0] !== TLS_HANDSHAKE) return answerClientError(err, socket);
        const target = this.#tunnels.get(socket)?.target;
        this.#log.warn(
          { target },
          `TLS arrived in a CONNECT to ${target ?? 'a DSN origin'}, which is an http:// origin of a DSN: ` +
            'call it with an http:// URL, or give the DSN an https:// HostName',
        );
        socket.destroy();
      },
    );
  }

  /** Answers the CONNECT and serves what follows as HTTP/1.1 requests for `tunnel`. */
  open(socket: Duplex, head: Buffer, tunnel: PlainTunnel): void {
    // a client that resets first must not take the process down with an unhandled 'error'
    socket.on('error', () => socket.destroy());
    if (socket.destroyed) return;
    this.#live.add(socket);
    socket.once('close', () => this.#live.delete(socket));
    this.#tunnels.set(socket, tunnel);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    // bytes sent right behind the CONNECT are the first request's
    if (head.length > 0) socket.unshift(head);
    this.#log.debug({ target: tunnel.target }, 'CONNECT carries plain HTTP for a DSN origin');
    this.#server.emit('connection', socket);
  }

  /** Ends every tunnel (the proxy is closing; in-flight requests have drained or been cut). */
  close(): Promise<void> {
    for (const socket of this.#live) socket.destroy();
    this.#live.clear();
    return new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
