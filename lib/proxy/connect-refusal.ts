import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ConnectUnsupportedError } from '../errors.js';
import { localOrigin } from './local-origin.js';

/** What answers `CONNECT host:port` (the socket is the client's raw connection). */
export interface ConnectHandler {
  (req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** ends its tunnels and sessions; called when the server closes */
  close?(): Promise<void>;
}

/**
 * The default CONNECT answer: 501 with a problem body. A tunnel would carry encrypted bytes
 * tokenshim cannot add a credential to; lib/proxy/connect.ts (a local CA, issue 9) replaces this.
 */
export const refuseConnect: ConnectHandler = (req, socket) => {
  // a client that resets first must not take the process down with an unhandled 'error'
  socket.on('error', () => socket.destroy());
  const body = JSON.stringify(
    new ConnectUnsupportedError(req.url ?? '', localOrigin(socket)).toProblem(),
  );
  socket.end(
    'HTTP/1.1 501 Not Implemented\r\n' +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
};
