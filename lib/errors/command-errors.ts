import { CODES, TokenshimError } from './tokenshim-error.js';

/**
 * Errors only commands report: login, logout, check.
 */

/**
 * `tokenshim login` did not end with a stored refresh token: the provider refused, the
 * person did not finish in time, or the provider issued no refresh token. The message says which
 * and what to change.
 */
export class LoginError extends TokenshimError {
  constructor(
    dsn: string,
    message: string,
    opts: {
      cause?: unknown;
      code?: typeof CODES.LOGIN_TIMEOUT | typeof CODES.LOGIN_NO_REFRESH_TOKEN;
    } = {},
  ) {
    super(opts.code ?? CODES.LOGIN, `DSN "${dsn}": ${message}`, {
      status: 502,
      dsn,
      cause: opts.cause,
    });
  }
}

/**
 * `tokenshim logout` could not revoke the refresh token at RevokeURI (RFC 7009): nothing was
 * cleared, so the token can still be revoked by running it again. The message quotes the server.
 */
export class LogoutError extends TokenshimError {
  constructor(dsn: string, message: string, opts: { cause?: unknown } = {}) {
    super(CODES.LOGOUT, `DSN "${dsn}": ${message}`, { status: 502, dsn, cause: opts.cause });
  }
}

/** `tokenshim check`: the token endpoint gave no answer in the time one DSN's check may take. */
export class CheckTimeoutError extends TokenshimError {
  constructor(dsn: string, waitedMs: number) {
    super(
      CODES.CHECK_TIMEOUT,
      `DSN "${dsn}": no answer from the token endpoint within ${Math.round(waitedMs / 1000)} s; ` +
        'check TokenURI and the network.',
      { dsn },
    );
  }
}
