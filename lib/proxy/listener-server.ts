/**
 * The node server behind each of tokenshim's ports (the main port and every ListenPort): plain or
 * TLS, with the client timeouts and header limits, and bound with an error that names the port's
 * purpose. What a request means is the proxy's (server.ts); this file only listens.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { SecureContextOptions } from 'node:tls';
import { ConfigError } from '../errors.js';
import { answerClientError } from './client-errors.js';
import {
  applyClientTimeouts,
  clientServerOptions,
  type ClientTimeouts,
} from './client-timeouts.js';
import { PROXY_DEFAULTS } from './defaults.js';

export interface ListenerHandlers {
  /** `expectContinue`: the client sent `Expect: 100-continue` and waits for our answer */
  request(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void;
  connect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export function createListenerServer(
  tls: Pick<SecureContextOptions, 'cert' | 'key' | 'pfx' | 'passphrase'> | undefined,
  timeouts: ClientTimeouts,
  handlers: ListenerHandlers,
): Server {
  const options = {
    maxHeaderSize: PROXY_DEFAULTS.maxHeaderSizeBytes,
    ...clientServerOptions(timeouts),
  };
  // an https.Server is an http.Server on TLS sockets: the same events and methods
  const server =
    tls === undefined
      ? createServer(options)
      : (createHttpsServer({ ...tls, ...options }) as unknown as Server);
  applyClientTimeouts(server, timeouts);
  // one more than accepted, so a request over the limit is seen (node drops the excess silently)
  server.maxHeadersCount = PROXY_DEFAULTS.maxHeaderCount + 1;
  server.on('request', (req: IncomingMessage, res: ServerResponse) =>
    handlers.request(req, res, false),
  );
  // answering `Expect: 100-continue` ourselves: refusals go out before the client sends its body
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) =>
    handlers.request(req, res, true),
  );
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    handlers.connect(req, socket, head),
  );
  server.on('clientError', answerClientError);
  return server;
}

/** Binds `server`; a taken port is a ConfigError naming `what` listens there and the fix. */
export async function listen(
  server: Server,
  host: string,
  port: number,
  what: string,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(
        new ConfigError(
          e.code === 'EADDRINUSE'
            ? `Cannot listen on ${host}:${port} for ${what}: the port is in use (another tokenshim?). Stop it or choose another port.`
            : `Cannot listen on ${host}:${port} for ${what} (${e.code ?? e.message}).`,
        ),
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** An IPv6 address in brackets, as a URL writes it. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
