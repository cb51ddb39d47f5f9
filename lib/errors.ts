/**
 * Every error tokenshim reports to a user, with a stable `TOKENSHIM_*` code. Messages name the DSN
 * and say what to do; they never contain a secret (callers pass descriptions, not values).
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
 * The local certificate authority that InterceptTLS needs to decrypt CONNECT is missing, unreadable or
 * unusable. The message names the file and the command that fixes it.
 */
export class LocalCaError extends TokenshimError {
  constructor(
    code: typeof CODES.CA_MISSING | typeof CODES.CA_INVALID | typeof CODES.CA_EXISTS,
    message: string,
    opts: { status?: number; dsn?: string; cause?: unknown } = {},
  ) {
    super(code, message, { status: opts.status ?? 502, dsn: opts.dsn, cause: opts.cause });
  }
}

/** A CONNECT tokenshim will not serve: the problem body says which option opens it. */
export class ConnectRefusedError extends TokenshimError {
  constructor(message: string, opts: { dsn?: string; status?: number; target?: string } = {}) {
    super(CODES.CONNECT_REFUSED, message, {
      status: opts.status ?? 403,
      dsn: opts.dsn,
      ...(opts.target === undefined ? {} : { extra: { target: opts.target } }),
    });
  }
}

/** The gateway path names no configured DSN: the body lists the ones that exist. */
export class UnknownDsnError extends TokenshimError {
  constructor(name: string, known: readonly string[]) {
    super(
      CODES.UNKNOWN_DSN,
      (name === '' ? 'The path names no DSN. ' : `No DSN named "${name}" is configured. `) +
        (known.length === 0
          ? 'tokenshim has no DSNs: add a section to the config and reload.'
          : `Use one of ${known.map((k) => `"${k}"`).join(', ')} as the first path segment ` +
            // relative to where the client already is: tokenshim may listen on any --port
            `(/${encodeURIComponent(known[0]!)}/...), or add a [${name}] section and reload.`),
      { status: 404, extra: { dsns: [...known] } },
    );
  }
}

/**
 * A forward-proxy request for an origin no DSN names: tokenshim is not an open relay, and a DSN's
 * credentials never go to an origin outside its HostName and AllowedHosts.
 */
export class ForeignOriginError extends TokenshimError {
  /** `gateway`: tokenshim's own origin, as the client reached it */
  constructor(origin: string, configured: readonly string[], gateway: string) {
    super(
      CODES.FOREIGN_ORIGIN,
      `tokenshim forwards only to the origins of its DSNs` +
        (configured.length === 0 ? '' : ` (${configured.join(', ')})`) +
        `; ${origin} is not one of them. Add it to a DSN's AllowedHosts, or call that DSN ` +
        `through the gateway URL ${gateway}/<DSN>/... instead.`,
      { status: 403, extra: { origin, origins: [...configured] } },
    );
  }
}

/** CONNECT while no local CA is set up: the proxy cannot add credentials to an encrypted tunnel. */
export class ConnectUnsupportedError extends TokenshimError {
  /** `gateway`: tokenshim's own origin, as the client reached it */
  constructor(target: string, gateway: string) {
    super(
      CODES.CONNECT_UNSUPPORTED,
      `HTTPS through the proxy (CONNECT ${target}) cannot carry credentials: tokenshim would only ` +
        `see encrypted bytes. Point the client at the gateway URL ${gateway}/<DSN>/... ` +
        '(tokenshim calls the upstream over https itself), or use an http:// URL with the proxy.',
      { status: 501, extra: { target } },
    );
  }
}

/** DNS rebinding defence: a Host header naming neither loopback nor the listen address. */
export class HostNotAllowedError extends TokenshimError {
  constructor(host: string) {
    super(
      CODES.HOST_NOT_ALLOWED,
      `tokenshim answers only requests addressed to 127.0.0.1, localhost or [::1] (or its --host); ` +
        `this one named "${host}". Use http://127.0.0.1:<port>/... in the client.`,
      { status: 421 },
    );
  }
}

/**
 * A request a web page made the browser send (its Origin is not on the DSN's AllowedOrigins, or
 * Sec-Fetch-Site says another site): any page could otherwise use the DSN's credential.
 */
export class CrossSiteRequestError extends TokenshimError {
  constructor(opts: { route: string; dsn?: string; origin?: string; fetchSite?: string }) {
    const from =
      opts.origin === undefined
        ? `a page of another site (Sec-Fetch-Site: ${opts.fetchSite ?? '?'})`
        : `a page of ${opts.origin}`;
    const fix =
      opts.dsn === undefined || opts.origin === undefined
        ? 'Web pages cannot call it; call it from a program, or open the URL in the address bar.'
        : `If pages of ${opts.origin} should call it, add AllowedOrigins=${opts.origin} to [${opts.dsn}].`;
    super(CODES.CROSS_SITE, `tokenshim refused ${opts.route} to ${from}. ${fix}`, {
      status: 403,
      ...(opts.dsn === undefined ? {} : { dsn: opts.dsn }),
    });
  }
}

/**
 * TRACE (and Microsoft's TRACK) make the server echo the request it received: forwarded, the
 * upstream would send back the credential tokenshim attached (cross-site tracing).
 */
export class MethodRefusedError extends TokenshimError {
  constructor(method: string, dsn: string) {
    super(
      CODES.METHOD_REFUSED,
      `tokenshim does not forward ${method}: the upstream would echo DSN "${dsn}"'s credential ` +
        'back in its answer. Use another method.',
      { status: 501, dsn },
    );
  }
}

/** More request headers than tokenshim accepts (node's maxHeaderSize caps their total size). */
export class TooManyHeadersError extends TokenshimError {
  constructor(count: number, limit: number) {
    super(
      CODES.TOO_MANY_HEADERS,
      `The request has ${count} headers; tokenshim accepts at most ${limit}. Send fewer headers.`,
      { status: 431 },
    );
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

export type UpstreamFailure =
  'unreachable' | 'tls' | 'timeout' | 'reset' | 'proxy' | 'headers-too-large' | 'bad-body';

const UPSTREAM_FAILURES: Record<UpstreamFailure, { code: TokenshimCode; status: number }> = {
  unreachable: { code: CODES.UPSTREAM_UNREACHABLE, status: 502 },
  tls: { code: CODES.UPSTREAM_TLS, status: 502 },
  timeout: { code: CODES.UPSTREAM_TIMEOUT, status: 504 },
  reset: { code: CODES.UPSTREAM_RESET, status: 502 },
  proxy: { code: CODES.UPSTREAM_PROXY, status: 502 },
  'headers-too-large': { code: CODES.UPSTREAM_HEADERS_TOO_LARGE, status: 502 },
  'bad-body': { code: CODES.UPSTREAM_BAD_BODY, status: 502 },
};

/**
 * The upstream (HostName) could not be reached, its certificate was refused, it did not answer in
 * time, or it dropped the connection. `hint` names the option that fixes it.
 */
export class UpstreamError extends TokenshimError {
  readonly failure: UpstreamFailure;
  constructor(
    failure: UpstreamFailure,
    opts: { dsn: string; origin: string; why: string; hint: string; cause?: unknown },
  ) {
    super(
      UPSTREAM_FAILURES[failure].code,
      `DSN "${opts.dsn}": ${opts.origin} ${opts.why}. ${opts.hint}`,
      {
        status: UPSTREAM_FAILURES[failure].status,
        dsn: opts.dsn,
        cause: opts.cause,
        extra: { upstream: opts.origin },
      },
    );
    this.failure = failure;
  }
}

/** An admin route (`/_tokenshim/...`) refused: wrong method, not loopback, or not found. */
export class AdminRouteError extends TokenshimError {
  constructor(status: 403 | 404 | 405 | 501, message: string) {
    super(CODES.ADMIN, message, { status });
  }
}

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

/**
 * POST /_tokenshim/token/<DSN> refused: the DSN does not expose tokens, or has no token to hand out.
 */
export class TokenExposureError extends TokenshimError {
  constructor(status: 403 | 409, dsn: string, message: string) {
    super(CODES.TOKENS_NOT_EXPOSED, message, { status, dsn });
  }
}

/**
 * An admin route that needs an AdminKey (POST /_tokenshim/token/<DSN>, or any admin route called
 * from another machine) got none, or another key. The message never says how close it was.
 */
export class AdminKeyError extends TokenshimError {
  constructor(message: string, dsn?: string) {
    super(CODES.ADMIN_KEY, message, { status: 401, ...(dsn === undefined ? {} : { dsn }) });
  }
}

/**
 * A DSN with a ClientKey was called without it, or with another key. The message never says how
 * close a wrong key was.
 */
export class ClientKeyError extends TokenshimError {
  constructor(dsn: string, outcome: 'missing' | 'wrong') {
    super(
      CODES.CLIENT_KEY,
      (outcome === 'missing'
        ? `DSN "${dsn}" answers only clients that present its ClientKey`
        : `The key sent for DSN "${dsn}" is not its ClientKey`) +
        ': send it as the password of HTTP Basic authentication (any user name) or in the ' +
        'X-Tokenshim-Key header.',
      { status: 401, dsn },
    );
  }
}

/** Too many wrong keys from one address: it must wait before its keys are compared again. */
export class TooManyAttemptsError extends TokenshimError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(
      CODES.TOO_MANY_ATTEMPTS,
      `Too many wrong or missing keys from this address: tokenshim compares none for ` +
        `${retryAfterSeconds} s. Check the ClientKey or AdminKey the client sends, then retry.`,
      { status: 429, extra: { retry_after: retryAfterSeconds } },
    );
    this.retryAfterSeconds = retryAfterSeconds;
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

/**
 * A request's `tokenshim.*` query parameters (joined pages) cannot be used: an unknown name, a
 * bad value, a paging style without what it needs, or a method other than GET. Nothing was sent
 * upstream.
 */
export class PagingRequestError extends TokenshimError {
  constructor(dsn: string, problems: readonly string[]) {
    super(
      CODES.PAGING_INVALID,
      `DSN "${dsn}": the joined-pages parameters cannot be used: ${problems.join('; ')}. ` +
        'Nothing was sent to the API; see "Joined pages" in the README.',
      { status: 400, dsn, extra: { problems: [...problems] } },
    );
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

/**
 * A page of a joined answer failed before the answer began (page 1, as a rule): the upstream
 * refused it, it was not the JSON the paging settings expect, or its next link leads elsewhere.
 * (After the answer began, the only honest signal is a cut connection and a log line.)
 */
export class PageFailedError extends TokenshimError {
  readonly page: number;
  constructor(opts: {
    dsn: string;
    page: number;
    why: string;
    status?: number;
    /** the code of the tokenshim error that failed the page (TOKENSHIM_NEEDS_LOGIN, ...) */
    causeCode?: string;
  }) {
    super(
      CODES.PAGE_FAILED,
      `DSN "${opts.dsn}": page ${opts.page} of the joined answer failed: ${opts.why}. ` +
        'Nothing was sent to the client yet, so the request can simply be retried once that is fixed.',
      {
        status: opts.status ?? 502,
        dsn: opts.dsn,
        extra: { page: opts.page, ...(opts.causeCode ? { causeCode: opts.causeCode } : {}) },
      },
    );
    this.page = opts.page;
  }
}
