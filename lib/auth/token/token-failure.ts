/**
 * What a failed token fetch means: the DSN needs a login (no retry can help), or it retries after
 * a backoff. Pure: the manager applies the verdict (test/auth/token/token-failure.test.ts runs the
 * cases as a table).
 */
import {
  CODES,
  NeedsLoginError,
  TokenEndpointError,
  TokenshimError,
  TokenUnavailableError,
} from '../../errors.js';
import { OS_ERROR_CODES } from '../../os-errors.js';
import { BACKOFF, backoffDelayMs } from '../backoff.js';
import { loginHelps, terminalAdvice } from '../oauth-error-advice.js';
import type { TokenFailureReason } from '../token-events.js';

/**
 * The token store could not be read, written or locked. A rotating refresh token is never
 * redeemed without it: two redeemers can get the whole token family revoked.
 */
const STORE_FAILURE_CODES: ReadonlySet<string> = new Set([
  CODES.TOKEN_STORE,
  CODES.TOKEN_STORE_DATA,
  CODES.TOKEN_STORE_UNAVAILABLE,
  CODES.REFRESH_LOCK_TIMEOUT,
]);

export interface FailureContext {
  readonly dsn: string;
  /** the grant that failed */
  readonly grantType: string;
  /** the DSN lives on refresh tokens (refresh_token, authorization_code): a login can renew it */
  readonly livesOnRefreshTokens: boolean;
  /** failed fetches in a row before this one */
  readonly failuresBefore: number;
  /** jitter source in [0, 1) */
  readonly random: () => number;
}

export type FailureVerdict =
  | {
      readonly kind: 'needs-login';
      /** what every caller sees until a login or a config change */
      readonly error: NeedsLoginError;
      readonly reason: TokenFailureReason;
      readonly httpStatus?: number;
    }
  | {
      readonly kind: 'retry';
      /** what callers see while no token is valid */
      readonly error: TokenshimError;
      /** the failure itself, in the token endpoint's (or store's) words, for logs and events */
      readonly detail: TokenshimError;
      readonly reason: TokenFailureReason;
      readonly httpStatus?: number;
      /** failed fetches in a row, this one included */
      readonly attempts: number;
      /** ms until the next attempt (backoff with jitter, Retry-After honoured) */
      readonly delayMs: number;
      /**
       * ms until a request that needs a token may try again: the backoff, capped at
       * BACKOFF.probeWhileWaitedForMs unless the server asked for longer (Retry-After)
       */
      readonly probeInMs: number;
    };

export function classifyFailure(e: unknown, ctx: FailureContext): FailureVerdict {
  const httpStatus = e instanceof TokenEndpointError ? e.httpStatus : undefined;
  const status = httpStatus === undefined ? {} : { httpStatus };
  if (e instanceof NeedsLoginError) return { kind: 'needs-login', error: e, reason: 'config' };
  if (e instanceof TokenEndpointError && e.terminal) {
    const advice = loginHelps(e.error, ctx.livesOnRefreshTokens)
      ? undefined
      : adviceWithoutLogin(ctx.dsn, ctx.grantType, e);
    const error = new NeedsLoginError(ctx.dsn, refusal(e), e, advice);
    return { kind: 'needs-login', error, reason: 'oauth_error', ...status };
  }
  const reason = failureReason(e);
  const detail =
    e instanceof TokenshimError
      ? e
      : new TokenshimError(CODES.TOKEN_ENDPOINT, String(e), { dsn: ctx.dsn, cause: e });
  const attempts = ctx.failuresBefore + 1;
  const retryAfterMs = e instanceof TokenEndpointError ? e.retryAfterMs : undefined;
  const delayMs = backoffDelayMs(attempts, ctx.random, retryAfterMs);
  const probeInMs =
    retryAfterMs === undefined ? Math.min(delayMs, BACKOFF.probeWhileWaitedForMs) : delayMs;
  // the endpoint's own answer (an OAuth error, a config, store or machine problem) says more
  // than "no valid token"; a network error or a 5xx is the endpoint being unavailable
  const error =
    reason === 'oauth_error' || reason === 'config' || reason === 'store' || reason === 'system'
      ? detail
      : new TokenUnavailableError(ctx.dsn, withoutDsnPrefix(detail.message, ctx.dsn), e);
  return { kind: 'retry', error, detail, reason, ...status, attempts, delayMs, probeInMs };
}

export function failureReason(e: unknown): TokenFailureReason {
  if (e instanceof TokenshimError && OS_ERROR_CODES.has(e.code)) return 'system';
  if (e instanceof TokenshimError && STORE_FAILURE_CODES.has(e.code)) return 'store';
  if (!(e instanceof TokenEndpointError)) return e instanceof TokenshimError ? 'config' : 'network';
  if (e.httpStatus === undefined) return 'network';
  if (e.httpStatus === 429) return 'status_429';
  if (e.httpStatus >= 500) return 'status_5xx';
  if (e.error !== undefined) return 'oauth_error';
  return 'bad_response';
}

/** What fixes a terminal refusal that a login cannot cure: the options to check, per grant. */
function adviceWithoutLogin(dsn: string, grantType: string, e: TokenEndpointError): string {
  const reload = 'then reload tokenshim (SIGHUP or POST /_tokenshim/reload)';
  if (terminalAdvice(e.error)?.refused === 'client') {
    return `Check ClientID and ClientSecret in [${dsn}], and that the client may use the ${grantType} grant, ${reload}.`;
  }
  if (grantType === 'password') return `Check User and Password in [${dsn}], ${reload}.`;
  if (grantType.endsWith(':jwt-bearer')) {
    return `Check ClaimsIssuer, ClaimsSubject and JWTPrivateKeyFile in [${dsn}], ${reload}.`;
  }
  return `Check the client and grant options in [${dsn}] against the provider's documentation, ${reload}.`;
}

/**
 * The server's words first (`invalid_client: client authentication failed`), then for a refused
 * client what to check there; a refused grant's message goes on to say what to do.
 */
function refusal(e: TokenEndpointError): string | undefined {
  const said = e.errorDescription ? `${e.error}: ${e.errorDescription}` : e.error;
  const advice = terminalAdvice(e.error);
  if (said === undefined || advice?.refused !== 'client') return said;
  // the table's "Check X." as a clause: "...; check X"
  return `${said}; ${advice.hint.charAt(0).toLowerCase()}${advice.hint.slice(1).replace(/\.$/, '')}`;
}

function withoutDsnPrefix(message: string, dsn: string): string {
  const prefix = `DSN "${dsn}": `;
  const rest = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  return rest.replace(/\.$/, '');
}
