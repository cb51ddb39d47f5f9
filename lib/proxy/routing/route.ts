import type { TokenshimError } from '../../errors.js';
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

/** What routing decided for one request; the server acts on it and on nothing else. */
export type Route = ForwardRoute | AdminPath | Refusal;

export function forwardTo(target: ExchangeTarget): ForwardRoute {
  return { kind: 'forward', target };
}

export function refuse(error: TokenshimError): Refusal {
  return { kind: 'refuse', error };
}
