import { CODES, TokenshimError } from './tokenshim-error.js';

/**
 * Errors of getting, keeping and handing out tokens: the token endpoint, the token store,
 * the refresh lock, a reload that retired a DSN, per-user DSNs.
 */

/**
 * The token endpoint answered with an OAuth error (RFC 6749 5.2) or something that is not a token.
 * `error` and `errorDescription` are the server's words; `terminal` errors stop retries.
 */
export class TokenEndpointError extends TokenshimError {
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  readonly httpStatus: number | undefined;
  readonly terminal: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    opts: {
      dsn?: string;
      error?: string;
      errorDescription?: string;
      httpStatus?: number;
      terminal?: boolean;
      retryAfterMs?: number;
      cause?: unknown;
    },
  ) {
    super(CODES.TOKEN_ENDPOINT, message, {
      status: 502,
      dsn: opts.dsn,
      cause: opts.cause,
      extra: {
        ...(opts.error ? { error: opts.error } : {}),
        ...(opts.errorDescription ? { error_description: opts.errorDescription } : {}),
      },
    });
    this.error = opts.error;
    this.errorDescription = opts.errorDescription;
    this.httpStatus = opts.httpStatus;
    this.terminal = opts.terminal ?? false;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** The DSN's grant was refused for good (invalid_grant and friends): a person must log in again. */
export class NeedsLoginError extends TokenshimError {
  /**
   * `advice` replaces the login advice where a login cannot help (a client_credentials DSN whose
   * client was refused needs its ClientID/ClientSecret fixed, not a browser).
   */
  constructor(dsn: string, serverSays: string | undefined, cause?: unknown, advice?: string) {
    super(
      CODES.NEEDS_LOGIN,
      advice === undefined
        ? `DSN "${dsn}" needs a new login: the token endpoint refused its grant` +
            (serverSays ? ` (${serverSays})` : '') +
            `. Run \`tokenshim login ${dsn}\` or paste a new RefreshToken into the config, then retry.`
        : `DSN "${dsn}" was refused by the token endpoint for good` +
            (serverSays ? ` (${serverSays})` : '') +
            `. ${advice}`,
      { status: 502, dsn, cause },
    );
  }
}

/** No valid token can be had right now (endpoint down and the last token expired). */
export class TokenUnavailableError extends TokenshimError {
  constructor(dsn: string, why: string, cause?: unknown) {
    super(
      CODES.TOKEN_UNAVAILABLE,
      `DSN "${dsn}" has no valid access token: ${why}. tokenshim keeps retrying; check TokenURI and the network.`,
      { status: 502, dsn, cause },
    );
  }
}

/**
 * A request of a DSN that a reload replaced needed a new token: the replaced DSN gets none (its
 * refresh token may be the one the reload replaced), and the request is best sent again.
 */
export class DsnReloadedError extends TokenshimError {
  constructor(dsn: string) {
    super(
      CODES.DSN_RELOADED,
      `DSN "${dsn}" was reloaded while this request waited for a token: send the request again ` +
        '(it goes to the DSN as configured now).',
      { status: 503, dsn },
    );
  }
}

/** A forced refresh of a DSN whose credential is static: there is no token to replace. */
export class NothingToRefreshError extends TokenshimError {
  constructor(dsn: string, method: number) {
    super(
      CODES.NOTHING_TO_REFRESH,
      `DSN "${dsn}" uses a static credential (AuthenticationMethod=${method}): there is no token ` +
        'to refresh. A forced refresh is for OAuth DSNs (AuthenticationMethod 51 to 56, or 24 with a grant).',
      { status: 409, dsn },
    );
  }
}

/**
 * The shared token store (Redis) cannot be reached. Valid tokens keep being served from memory,
 * but a rotating refresh token is never redeemed without the store's lock: two nodes
 * redeeming the same token at once can get the whole token family revoked.
 */
export class TokenStoreUnavailableError extends TokenshimError {
  /** the store's description (never its password) */
  readonly store: string;
  constructor(opts: { dsn?: string; store: string; action: string; why: string; cause?: unknown }) {
    super(
      CODES.TOKEN_STORE_UNAVAILABLE,
      `${opts.dsn === undefined ? 'tokenshim' : `DSN "${opts.dsn}"`} cannot ${opts.action}: ` +
        `the token store ${opts.store} (TokenStore) is unreachable (${opts.why}). ` +
        'Valid tokens keep being served from memory and tokenshim reconnects by itself; ' +
        'start Redis or correct TokenStore.',
      { status: 503, dsn: opts.dsn, cause: opts.cause, extra: { store: opts.store } },
    );
    this.store = opts.store;
  }
}

/**
 * Another instance has held the refresh lock for longer than this one waits. A live holder renews
 * the lock while its token request runs; a dead one loses it when the lock's TTL runs out.
 */
export class RefreshLockTimeoutError extends TokenshimError {
  readonly store: string;
  constructor(opts: { dsn?: string; store: string; waitedMs: number }) {
    super(
      CODES.REFRESH_LOCK_TIMEOUT,
      `${opts.dsn === undefined ? 'tokenshim' : `DSN "${opts.dsn}"`} waited ` +
        `${Math.round(opts.waitedMs / 1000)} s for another tokenshim instance to finish refreshing ` +
        `(refresh lock in ${opts.store}) and gave up. That instance's token request is slow or hanging: ` +
        'check the token endpoint (TokenURI); the request can be retried.',
      { status: 503, dsn: opts.dsn, extra: { store: opts.store } },
    );
    this.store = opts.store;
  }
}

/**
 * The token store file cannot be used: another process holds its lock for too long, or it is not
 * a tokenshim token file (it is left untouched: it may hold the only copy of a refresh token).
 */
export class TokenStoreError extends TokenshimError {
  constructor(message: string, opts: { status: 500 | 503; cause?: unknown }) {
    super(CODES.TOKEN_STORE, message, opts);
  }
}

/** An entry of the shared (Redis) token store is not tokenshim's token JSON. */
export class TokenStoreDataError extends TokenshimError {
  constructor(message: string, opts: { dsn?: string } = {}) {
    super(CODES.TOKEN_STORE_DATA, message, { status: 500, ...opts });
  }
}

/** A DSN whose TokenParams use {user} needs to know the user per request. */
export class UserRequiredError extends TokenshimError {
  constructor(dsn: string) {
    super(
      CODES.USER_REQUIRED,
      `DSN "${dsn}" issues one token per user (its TokenParams use {user}): send the user name ` +
        'in the X-Tokenshim-User request header.',
      { status: 400, dsn },
    );
  }
}

/** `tokenshim token` for a DSN whose method has no access token to print. */
export class NoAccessTokenError extends TokenshimError {
  constructor(dsn: string, method: { readonly code: number; readonly name: string }) {
    super(
      CODES.NO_ACCESS_TOKEN,
      `DSN "${dsn}" uses AuthenticationMethod=${method.code} (${method.name}), which has no access token ` +
        'to print; tokenshim token is for OAuth DSNs (50-56) and BearerToken (34).',
      { dsn },
    );
  }
}
