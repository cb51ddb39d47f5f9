import {
  STATUS_CODES,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { TokenshimError, TokenUnavailableError } from '../errors.js';
import { endAfterRequestBody, hasUnreadBody } from './unread-body.js';

/**
 * tokenshim's own answers, written in one place: problems (RFC 9457 problem+json) on a response
 * or on a raw socket (CONNECT), JSON, and any other body of its own. None of them may be cached:
 * each says how things are now.
 */

/**
 * Ends a response with tokenshim's own failure as problem+json. When the upstream's response has
 * already begun, the only honest signal left is to cut the connection.
 */
export function sendProblem(res: ServerResponse, error: TokenshimError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendText(res, error.status, 'application/problem+json', problemJson(error));
}

/**
 * Answers a CONNECT on the client's raw socket (there is no ServerResponse for it) with the
 * problem, and closes it: after a refused CONNECT the connection has no further use.
 */
export function writeProblemToSocket(socket: Duplex, error: TokenshimError): void {
  if (socket.destroyed) return;
  const body = problemJson(error);
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\n' +
      'Connection: close\r\n\r\n' +
      body,
  );
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, 'application/json', JSON.stringify(body));
}

/**
 * Any other body of tokenshim's own (the status page, the metrics exposition). An answer given
 * before the request's body has arrived closes the connection, after that body (unread-body.ts).
 */
export function sendText(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: OutgoingHttpHeaders = {},
): void {
  const req = res.req as IncomingMessage | undefined;
  const unread = req !== undefined && hasUnreadBody(req);
  if (unread) res.shouldKeepAlive = false;
  res.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  if (unread) endAfterRequestBody(req, res, text);
  else res.end(text);
}

/**
 * A failure as a client sees it. Errors that are not TokenshimErrors are shown by name only:
 * their messages were not written for users and might quote a token.
 */
export function asTokenshimError(err: unknown, dsn: string): TokenshimError {
  if (err instanceof TokenshimError) return err;
  const name = err instanceof Error ? err.name : 'unknown error';
  return new TokenUnavailableError(dsn, `the token engine failed (${name})`, err);
}

function problemJson(error: TokenshimError): string {
  return JSON.stringify(error.toProblem());
}
