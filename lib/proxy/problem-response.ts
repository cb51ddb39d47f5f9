import type { ServerResponse } from 'node:http';
import { TokenshimError, TokenUnavailableError } from '../errors.js';

/**
 * Ends a response with tokenshim's own failure as RFC 9457 problem+json. When the upstream's
 * response has already begun, the only honest signal left is to cut the connection.
 */
export function sendProblem(res: ServerResponse, error: TokenshimError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(error.toProblem());
  res.writeHead(error.status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/**
 * A token engine failure as a client sees it. Errors that are not TokenshimErrors are shown by
 * name only: their messages were not written for users and might quote a token.
 */
export function asTokenshimError(err: unknown, dsn: string): TokenshimError {
  if (err instanceof TokenshimError) return err;
  const name = err instanceof Error ? err.name : 'unknown error';
  return new TokenUnavailableError(dsn, `the token engine failed (${name})`, err);
}
