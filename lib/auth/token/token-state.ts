import type { NeedsLoginError, TokenshimError } from '../../errors.js';
import type { TokenStatus } from '../credential.js';
import type { AccessToken } from './access-token.js';

/**
 * The token manager's states (token-manager.ts's table says how getToken moves between them) and
 * what status() reports for each.
 */

/** The last failure, while no fetch has succeeded since. */
export interface Failure {
  /** what callers see while no token is valid */
  readonly error: TokenshimError;
  /** failed fetches in a row */
  readonly attempts: number;
  /** epoch ms: no background fetch before this (backoff) */
  readonly nextAttemptAt: number;
  /** epoch ms: no fetch for a caller before this (the backoff, capped while callers wait) */
  readonly probeAt: number;
}

export interface NeedsLogin {
  readonly kind: 'needs-login';
  /** what every caller gets until a login */
  readonly error: NeedsLoginError;
  /** epoch ms of the last look for a new refresh token in the store */
  readonly checkedAt: number;
}

export type TokenState =
  | { readonly kind: 'empty' }
  | { readonly kind: 'valid'; readonly token: AccessToken }
  | { readonly kind: 'failing'; readonly token: AccessToken | undefined; readonly failure: Failure }
  | NeedsLogin;

export const EMPTY: TokenState = Object.freeze({ kind: 'empty' });

/**
 * What status() says of a state: a running fetch shows as `refreshing`; a token past its
 * hand-out deadline (`ready` false) as `expired`, or `failing` when the last fetch failed.
 */
export function reportedState(
  state: TokenState,
  now: { readonly refreshing: boolean; readonly ready: boolean },
): Pick<TokenStatus, 'state' | 'lastError'> {
  switch (state.kind) {
    case 'needs-login':
      return { state: 'needs-login', lastError: state.error.message };
    case 'empty':
      return { state: now.refreshing ? 'refreshing' : 'empty' };
    case 'valid':
      return { state: now.refreshing ? 'refreshing' : now.ready ? 'valid' : 'expired' };
    case 'failing':
      return {
        state: now.refreshing ? 'refreshing' : now.ready ? 'valid' : 'failing',
        lastError: state.failure.error.message,
      };
  }
}
