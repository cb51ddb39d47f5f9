import type { IncomingMessage, Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PROXY_DEFAULTS } from './defaults.js';

/**
 * How long tokenshim waits for its clients. Without limits, connections that never finish a
 * request (silent ones, slowloris headers, a body that stops halfway) are held forever, and under
 * a file-descriptor limit the token store then cannot open its files.
 */
export interface ClientTimeouts {
  /** a request's headers must be complete this long after the connection opened or the request began */
  readonly headersMs: number;
  /** a connection may be silent this long between requests, and while tokenshim reads a body */
  readonly idleMs: number;
}

export function clientTimeouts(given: Partial<ClientTimeouts> = {}): ClientTimeouts {
  return {
    headersMs: given.headersMs ?? PROXY_DEFAULTS.clientHeadersTimeoutMs,
    idleMs: given.idleMs ?? PROXY_DEFAULTS.clientIdleTimeoutMs,
  };
}

/** node:http server options for these timeouts (createServer reads some only at construction). */
export function clientServerOptions(t: ClientTimeouts): ServerOptions {
  return {
    // a 1 GiB upload over a slow link must not be cut by node's 300 s whole-request limit; the
    // idle timeout cuts one that stops instead
    requestTimeout: 0,
    // said explicitly: node derives it as min(60 s, requestTimeout), which is 0 (never) here
    headersTimeout: t.headersMs,
    keepAliveTimeout: t.idleMs,
    // node looks for connections past the headers timeout this often (its default: 30 s)
    connectionsCheckingInterval: Math.max(10, Math.min(5_000, Math.floor(t.headersMs / 4))),
  };
}

/** sockets whose request body tokenshim is reading now, with that request */
const readingBody = new WeakMap<Duplex, IncomingMessage>();

/**
 * Makes a server close connections that stay silent: idle between requests (node's keep-alive
 * timer) or while tokenshim reads their request body (`watchBodyIdle`). A connection waiting for
 * tokenshim (a token, the upstream's answer, an upstream slow to take the body) is not idle.
 *
 * `inProcess`: a server that never listens and is handed connections (CONNECT tunnels). node
 * tracks connections for the headers timeout only from 'listening' on, so that is emitted here.
 */
export function applyClientTimeouts(server: Server, t: ClientTimeouts, inProcess = false): void {
  server.headersTimeout = t.headersMs;
  server.keepAliveTimeout = t.idleMs;
  server.requestTimeout = 0;
  server.on('timeout', onSocketTimeout);
  if (inProcess) server.emit('listening');
}

function onSocketTimeout(socket: Socket): void {
  const req = readingBody.get(socket);
  // the body is all here, or tokenshim paused reading it (the upstream takes it slowly)
  if (req !== undefined && (req.complete || req.readableFlowing === false)) return;
  socket.destroy();
}

/**
 * While tokenshim reads `req`'s body, a client silent for `idleMs` is cut (with `applyClientTimeouts`
 * on its server). Ends by itself when the body ends or the request goes.
 */
export function watchBodyIdle(req: IncomingMessage, idleMs: number): void {
  const socket = req.socket;
  if (idleMs <= 0 || req.complete || readingBody.has(socket)) return;
  readingBody.set(socket, req);
  socket.setTimeout(idleMs);
  const stop = (): void => {
    req.off('end', stop);
    req.off('close', stop);
    if (readingBody.get(socket) !== req) return;
    readingBody.delete(socket);
    // only our own timer: once the answer went out, node's keep-alive timer is the socket's
    if (!socket.destroyed && socket.timeout === idleMs) socket.setTimeout(0);
  };
  req.on('end', stop);
  req.on('close', stop);
}
