import type { TokenshimError } from '../../errors.js';
import type { PreflightRequest } from '../cors.js';
import type { ExchangeTarget } from '../forward/exchange.js';

/** Forward to the target's origin with its binding's credential. */
export interface ForwardRoute {
  readonly kind: 'forward';
  readonly target: ExchangeTarget;
}

/** tokenshim's own `/_tokenshim/<path>`; `path` is what follows the prefix, query included. */
export interface AdminPath {
  readonly kind: 'admin';
  readonly path: string;
}

/** Answer with this problem and forward nothing. */
export interface Refusal {
  readonly kind: 'refuse';
  readonly error: TokenshimError;
}

/**
 * A CORS preflight from a page of one of the DSN's AllowedOrigins: tokenshim answers it itself
 * (lib/proxy/cors.ts) and sends nothing upstream.
 */
export interface Preflight extends PreflightRequest {
  readonly kind: 'preflight';
  readonly dsn: string;
}

/** What routing decided for one request; the server acts on it and on nothing else. */
export type Route = ForwardRoute | AdminPath | Refusal | Preflight;

export function forwardTo(target: ExchangeTarget): ForwardRoute {
  return { kind: 'forward', target };
}

export function refuse(error: TokenshimError): Refusal {
  return { kind: 'refuse', error };
}
