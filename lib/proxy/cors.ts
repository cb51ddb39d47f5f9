import type { ServerResponse } from 'node:http';

/**
 * CORS as tokenshim answers it for the pages of a DSN's AllowedOrigins. The upstream's own
 * `Access-Control-*` headers never reach the client (response-headers.ts drops them): they state
 * the upstream's policy for its own callers, and an upstream that answers `*` would otherwise let
 * every page read what tokenshim's credential fetched. For an allowed origin tokenshim states its
 * own: that origin alone, no credentials mode (tokenshim attaches the credential; a page needs no
 * cookies), every response header readable.
 */

/** What a CORS preflight asks for. */
export interface PreflightRequest {
  readonly origin: string;
  /** Access-Control-Request-Method */
  readonly requestMethod: string;
  /** Access-Control-Request-Headers, as sent */
  readonly requestHeaders: string | undefined;
  /** Access-Control-Request-Private-Network: true (Chrome, a public page calling a private address) */
  readonly privateNetwork: boolean;
}

/** how long a browser may reuse a preflight answer: short, so a removed origin stops soon */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** methods a page is never allowed, whatever it asks (tokenshim refuses them anyway) */
const NEVER_ALLOWED = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** Appends the CORS headers for an allowed origin to a flat `[name, value, ...]` list. */
export function appendCorsHeaders(headers: string[], origin: string): void {
  headers.push(
    'access-control-allow-origin',
    origin,
    'access-control-expose-headers',
    '*',
    'vary',
    'Origin',
  );
}

/** The same, on a response tokenshim writes itself (a joined-pages answer) before its head. */
export function setCorsHeaders(res: ServerResponse, origin: string): void {
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-expose-headers', '*');
  res.setHeader('vary', 'Origin');
}

/** `Access-Control-*` fields of an upstream response: never passed on. */
export function isCorsResponseHeader(lowerName: string): boolean {
  return lowerName.startsWith('access-control-');
}

/** Answers a preflight from an allowed origin with 204; nothing goes upstream. */
export function answerPreflight(res: ServerResponse, p: PreflightRequest): void {
  const method = p.requestMethod.trim().toUpperCase();
  const headers: Record<string, string> = {
    'access-control-allow-origin': p.origin,
    'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
    vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    'cache-control': 'no-store',
  };
  if (!NEVER_ALLOWED.has(method)) headers['access-control-allow-methods'] = method;
  if (p.requestHeaders !== undefined && p.requestHeaders.trim() !== '') {
    headers['access-control-allow-headers'] = p.requestHeaders;
  }
  // Private Network Access: a page on a public address calling tokenshim on this machine
  if (p.privateNetwork) headers['access-control-allow-private-network'] = 'true';
  res.writeHead(204, headers);
  res.end();
}
