import { CODES, TokenshimError } from './tokenshim-error.js';

/**
 * Requests tokenshim refuses itself, before anything goes upstream: routing, browsers, keys,
 * admin routes, CONNECT, joined-pages parameters.
 */

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

/** An admin route (`/_tokenshim/...`) refused: wrong method, not loopback, or not found. */
export class AdminRouteError extends TokenshimError {
  constructor(status: 403 | 404 | 405 | 501, message: string) {
    super(CODES.ADMIN, message, { status });
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
