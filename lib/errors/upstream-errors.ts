import { CODES, TokenshimError, type TokenshimCode } from './tokenshim-error.js';

/**
 * The upstream failed a forwarded request: unreachable, refused TLS, too slow, reset, too large
 * headers, a body that does not decode, a page of a joined answer.
 */

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
