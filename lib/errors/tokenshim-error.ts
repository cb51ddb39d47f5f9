/**
 * The code table and the base class of every error tokenshim reports to a user, each with a stable
 * `TOKENSHIM_*` code. Messages name the DSN and say what to do; they never contain a secret
 * (callers pass descriptions, not values).
 */

/**
 * Every code tokenshim reports, written down once. Clients, scripts and log searches match on
 * these strings, so a value never changes once released; the README's error table documents each
 * one (test/errors.test.ts keeps the two in step and keeps code literals out of the rest of lib/).
 */
export const CODES = {
  CONFIG: 'TOKENSHIM_CONFIG',
  TOKEN_ENDPOINT: 'TOKENSHIM_TOKEN_ENDPOINT',
  NEEDS_LOGIN: 'TOKENSHIM_NEEDS_LOGIN',
  TOKEN_UNAVAILABLE: 'TOKENSHIM_TOKEN_UNAVAILABLE',
  TOKEN_STORE: 'TOKENSHIM_TOKEN_STORE',
  TOKEN_STORE_DATA: 'TOKENSHIM_TOKEN_STORE_DATA',
  TOKEN_STORE_UNAVAILABLE: 'TOKENSHIM_TOKEN_STORE_UNAVAILABLE',
  REFRESH_LOCK_TIMEOUT: 'TOKENSHIM_REFRESH_LOCK_TIMEOUT',
  DISK_FULL: 'TOKENSHIM_DISK_FULL',
  READ_ONLY_FILE_SYSTEM: 'TOKENSHIM_READ_ONLY_FILE_SYSTEM',
  TOO_MANY_OPEN_FILES: 'TOKENSHIM_TOO_MANY_OPEN_FILES',
  DSN_RELOADED: 'TOKENSHIM_DSN_RELOADED',
  NOTHING_TO_REFRESH: 'TOKENSHIM_NOTHING_TO_REFRESH',
  USER_REQUIRED: 'TOKENSHIM_USER_REQUIRED',
  UNKNOWN_DSN: 'TOKENSHIM_UNKNOWN_DSN',
  FOREIGN_ORIGIN: 'TOKENSHIM_FOREIGN_ORIGIN',
  HOST_NOT_ALLOWED: 'TOKENSHIM_HOST_NOT_ALLOWED',
  CROSS_SITE: 'TOKENSHIM_CROSS_SITE',
  METHOD_REFUSED: 'TOKENSHIM_METHOD_REFUSED',
  TOO_MANY_HEADERS: 'TOKENSHIM_TOO_MANY_HEADERS',
  UPSTREAM_UNREACHABLE: 'TOKENSHIM_UPSTREAM_UNREACHABLE',
  UPSTREAM_TLS: 'TOKENSHIM_UPSTREAM_TLS',
  UPSTREAM_TIMEOUT: 'TOKENSHIM_UPSTREAM_TIMEOUT',
  UPSTREAM_RESET: 'TOKENSHIM_UPSTREAM_RESET',
  UPSTREAM_PROXY: 'TOKENSHIM_UPSTREAM_PROXY',
  UPSTREAM_HEADERS_TOO_LARGE: 'TOKENSHIM_UPSTREAM_HEADERS_TOO_LARGE',
  UPSTREAM_BAD_BODY: 'TOKENSHIM_UPSTREAM_BAD_BODY',
  CLIENT_CLOSED: 'TOKENSHIM_CLIENT_CLOSED',
  CONNECT_UNSUPPORTED: 'TOKENSHIM_CONNECT_UNSUPPORTED',
  CONNECT_REFUSED: 'TOKENSHIM_CONNECT_REFUSED',
  TUNNEL_FAILED: 'TOKENSHIM_TUNNEL_FAILED',
  CA_MISSING: 'TOKENSHIM_CA_MISSING',
  CA_INVALID: 'TOKENSHIM_CA_INVALID',
  CA_EXISTS: 'TOKENSHIM_CA_EXISTS',
  ADMIN: 'TOKENSHIM_ADMIN',
  ADMIN_KEY: 'TOKENSHIM_ADMIN_KEY',
  CLIENT_KEY: 'TOKENSHIM_CLIENT_KEY',
  TOO_MANY_ATTEMPTS: 'TOKENSHIM_TOO_MANY_ATTEMPTS',
  TOKENS_NOT_EXPOSED: 'TOKENSHIM_TOKENS_NOT_EXPOSED',
  LOGIN: 'TOKENSHIM_LOGIN',
  LOGIN_TIMEOUT: 'TOKENSHIM_LOGIN_TIMEOUT',
  LOGIN_NO_REFRESH_TOKEN: 'TOKENSHIM_LOGIN_NO_REFRESH_TOKEN',
  LOGOUT: 'TOKENSHIM_LOGOUT',
  NO_ACCESS_TOKEN: 'TOKENSHIM_NO_ACCESS_TOKEN',
  CHECK_TIMEOUT: 'TOKENSHIM_CHECK_TIMEOUT',
  PAGING_INVALID: 'TOKENSHIM_PAGING_INVALID',
  PAGE_FAILED: 'TOKENSHIM_PAGE_FAILED',
} as const;

export type TokenshimCode = (typeof CODES)[keyof typeof CODES];

const ALL_CODES: ReadonlySet<string> = new Set(Object.values(CODES));

/** A code tokenshim itself answers with (read back from a problem body, say). */
export function isTokenshimCode(code: string): code is TokenshimCode {
  return ALL_CODES.has(code);
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: TokenshimCode;
  dsn?: string;
  [extra: string]: unknown;
}

export class TokenshimError extends Error {
  readonly code: TokenshimCode;
  /** HTTP status a client sees when this error ends a proxied request */
  readonly status: number;
  readonly dsn: string | undefined;
  readonly extra: Record<string, unknown>;

  constructor(
    code: TokenshimCode,
    message: string,
    opts: { status?: number; dsn?: string; cause?: unknown; extra?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = opts.status ?? 500;
    this.dsn = opts.dsn;
    this.extra = opts.extra ?? {};
  }

  toProblem(): ProblemDetails {
    return {
      type: `https://github.com/tokenshim/tokenshim#${this.code.toLowerCase()}`,
      title: this.code,
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(this.dsn === undefined ? {} : { dsn: this.dsn }),
      ...this.extra,
    };
  }
}

/** Configuration that cannot be used; `problems` holds every finding, not just the first. */
export class ConfigError extends TokenshimError {
  readonly problems: readonly { message: string }[];
  constructor(message: string, problems: readonly { message: string }[] = []) {
    super(CODES.CONFIG, message, { status: 500 });
    this.problems = problems;
  }
}
