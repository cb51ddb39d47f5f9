import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * tokenshim's own answer to a request whose body it has not read (yet): a refusal, no token, an
 * upstream it could not reach. Two kinds of client must both get that answer:
 *
 * - clients that write their whole body before they read (Mono's HttpWebRequest, the nearest
 *   thing to Qlik's .NET connector; any client after waiting for a 100 Continue that never came):
 *   a connection closed while their body still arrives is reset by the kernel, and the answer
 *   already sent is lost with it ("the socket has been shut down");
 * - pooled clients that read the answer early (aiohttp): on a connection kept alive, the rest of
 *   the old body would be read as their next request, which then hangs.
 *
 * So the answer goes out at once with `Connection: close`, and the connection is closed only once
 * the body has arrived (read and thrown away), the client has stopped sending, or a bound is hit
 * (a lingering close, as web servers do it).
 */
export interface UnreadBodyLimits {
  /** bytes read and thrown away at most; past them the connection is closed anyway */
  readonly maxBytes: number;
  /** no byte for this long: the client has stopped sending (or waits for a 100 not coming) */
  readonly quietMs: number;
  /** the whole wait, however slowly the client sends */
  readonly maxMs: number;
}

export const UNREAD_BODY_LIMITS: UnreadBodyLimits = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  quietMs: 2_000,
  maxMs: 30_000,
});

/** The request announced a body (Content-Length above 0, or chunked) that has not all arrived. */
export function hasUnreadBody(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Writes `body` as the whole answer (the head is written), then ends `res` once `req`'s body has
 * arrived or `limits` say to stop. The caller has set `res.shouldKeepAlive = false` before the head.
 */
export function endAfterRequestBody(
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  limits: UnreadBodyLimits = UNREAD_BODY_LIMITS,
): void {
  res.write(body);
  let bytes = 0;
  const finish = (): void => {
    clearTimeout(quiet);
    clearTimeout(whole);
    req.off('data', onData);
    req.off('end', finish);
    req.off('close', finish);
    if (!res.writableEnded && !res.destroyed) res.end();
  };
  const onData = (chunk: Buffer): void => {
    bytes += chunk.length;
    if (bytes > limits.maxBytes) finish();
    else quiet.refresh();
  };
  const quiet = setTimeout(finish, limits.quietMs).unref();
  const whole = setTimeout(finish, limits.maxMs).unref();
  req.on('data', onData);
  req.once('end', finish);
  req.once('close', finish);
  req.resume();
}
