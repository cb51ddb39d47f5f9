/**
 * What the token manager reports as it works: the one channel for token requests, tokens and
 * failures, which the token log and the metrics read. Events never carry token values.
 */
export type TokenFailureReason =
  | 'network'
  | 'status_5xx'
  | 'status_429'
  | 'oauth_error'
  | 'bad_response'
  /** the DSN cannot make a token request at all (no refresh token, unreadable key file) */
  | 'config'
  /** the token store could not be read, written or locked (a rotating token is never redeemed without it) */
  | 'store'
  /** this machine: a full disk, a read-only file system, no file descriptors left */
  | 'system';

/**
 * Why a token request was made: `ahead_of_expiry` (the background refresh, no caller waiting),
 * `on_demand` (a caller needs a token now), `forced` (`tokenshim token --force`, POST
 * /_tokenshim/refresh/<DSN>) or `prefetch` (Prefetch=1: at start, and again whenever the DSN
 * has no valid token, with no caller waiting). Logs and metrics use these values as they are.
 */
export type RefreshTrigger = 'ahead_of_expiry' | 'on_demand' | 'forced' | 'prefetch';

interface TokenEventBase {
  readonly dsn: string;
  readonly user?: string;
  readonly grantType: string;
  readonly trigger: RefreshTrigger;
}

export type TokenEvent =
  | (TokenEventBase & { readonly type: 'token_requested' })
  | (TokenEventBase & {
      readonly type: 'token_fetched';
      /** seconds from sending the request to expiry */
      readonly lifetimeSeconds: number;
      readonly refreshTokenRotated: boolean;
      /** another process (or instance) had refreshed already: taken from the token store */
      readonly fromStore: boolean;
    })
  | (TokenEventBase & {
      readonly type: 'token_fetch_failed';
      readonly reason: TokenFailureReason;
      readonly httpStatus?: number;
      /** the DSN now needs a login */
      readonly terminal: boolean;
      /** ms until the next attempt, when one is planned */
      readonly retryInMs?: number;
      /** what went wrong, in words safe to show (never a secret): the log line's why */
      readonly error?: string;
    });

export type TokenEventListener = (event: TokenEvent) => void;
