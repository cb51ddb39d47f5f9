import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AttachedCredential, CredentialRequest } from '../../auth/credential.js';
import { UserRequiredError, type TokenshimError } from '../../errors.js';
import type { Clock, ClockTimer } from '../../clock.js';
import type { Logger } from '../../log/logger.js';
import { PageWalk, type PageAddress, type PageSource } from '../paging/page-walk.js';
import { pageRequestHeaders, pagingRequest, type PagingPlan } from '../paging/paging-request.js';
import { asTokenshimError, sendProblem } from '../../http/problem.js';
import type { BodySink } from './body-sink.js';
import type { LinkRewrite } from './link-rewrite.js';
import { applyQueryCredential } from '../../http/query-credential.js';
import { NO_BODY, readReplayableBody, type UpstreamBody } from './request-body.js';
import { USER_HEADER, buildRequestHead, replaceCredentialHeaders } from './request-headers.js';
import { setCorsHeaders } from '../cors.js';
import { buildResponseHead } from './response-headers.js';
import { jsonBodyRewrite, rewritableJsonCoding } from './rewritten-body.js';
import type { ContentCoding } from './content-decoding.js';
import { causeText, ClientClosedError, describeUpstreamFailure } from './upstream-failure.js';
import { logRetry, resendableAfterReset, retryAfterOf, RetryBudget } from './upstream-retry.js';
import { conditionText, HeldAnswer, inspectableCoding } from './body-rejection.js';
import { watchBodyIdle } from '../client-timeouts.js';
import type { ExchangeContext, ExchangeObserver, ExchangeTarget } from './exchange-types.js';

export type {
  ExchangeContext,
  ExchangeEvent,
  ExchangeObserver,
  ExchangeTarget,
} from './exchange-types.js';

/**
 * One client request forwarded upstream, possibly twice (a replay after a rejected token). The
 * object is undici's dispatch handler itself: undici 7's core calls onConnect/onHeaders/onData/
 * onComplete/onError directly, while its newer controller API is a wrapper that allocates a
 * controller and parses the headers into an object for every response. Going without the wrapper
 * (and without the Readable that undici.request/stream would build for the body) is what keeps
 * the hot path lean: upstream bytes are written straight into the client's response, with
 * backpressure through onData's return value and `resume`.
 */
export class Exchange implements Dispatcher.DispatchHandler, CredentialRequest, PageSource {
  readonly #target: ExchangeTarget;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #log: Logger;
  readonly #clientIdleMs: number;
  readonly #clock: Clock;
  /** the user a per-user DSN issues the token for (X-Tokenshim-User) */
  user: string | undefined;
  #credential!: AttachedCredential;
  #headers: string[] = [];
  #body: UpstreamBody = NO_BODY;
  #resetRetried = false;
  /** the answer arriving is dropped for what follows it: a replay with a fresh token, or a retry */
  #discarding: 'replay' | 'retry' | undefined;
  /** the current request (a page of a walk counts alone) was replayed with a fresh token */
  #tokenReplayed = false;
  /** RetryOnStatus retries of the current request (made at the first one) */
  #retryBudget: RetryBudget | undefined;
  #retryWaitMs = 0;
  #retryTimer: ClockTimer | undefined;
  /** an answer held back while RefreshOnBody examines its body */
  #held: HeldAnswer | undefined;
  #retriesInAll = 0;
  #clientGone = false;
  #abortUpstream: ((err?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #signal: AbortController | undefined;
  #rewrite: LinkRewrite | undefined;
  /** takes the body instead of the plain pass-through (JSON URL rewriting, a page of a walk) */
  #sink: BodySink | undefined;
  /** where the current request goes: the target's, or a page of a walk */
  #origin: string;
  #host: string;
  #path: string;
  /** joined pages (tokenshim.* parameters or the DSN's Paging): the answer is the walk's */
  #walk: PageWalk | undefined;
  #pages = 0;
  /** the current attempt got its final answer head */
  #answered = false;
  #replayed = false;
  readonly #observer: ExchangeObserver | undefined;
  #sentAt = 0;
  #startedAt = 0;
  #upstreamSeconds: number | undefined;

  constructor(
    target: ExchangeTarget,
    req: IncomingMessage,
    res: ServerResponse,
    context: ExchangeContext,
  ) {
    this.#target = target;
    this.#req = req;
    this.#res = res;
    this.#log = context.log;
    this.#clientIdleMs = context.clientIdleMs;
    this.#clock = context.clock;
    const observer = context.observer;
    this.#observer = observer;
    this.#origin = target.origin;
    this.#host = target.host;
    this.#path = target.path;
    if (observer) this.#startedAt = performance.now();
    target.binding.enter();
    res.on('close', this.#onClientClose);
  }

  /** `expectContinue`: the client waits for our 100 before sending its body (checkContinue). */
  async run(expectContinue: boolean): Promise<void> {
    const { binding } = this.#target;
    const provider = binding.provider;
    let paging: ReturnType<typeof pagingRequest>;
    try {
      paging = pagingRequest(
        this.#path,
        binding.dsn,
        this.#req.method ?? 'GET',
        this.#req.headers.accept,
      );
    } catch (e) {
      return sendProblem(this.#res, e as TokenshimError);
    }
    if (paging !== undefined) this.#path = paging.path;
    if (provider.perUser) {
      const value = this.#req.headers[USER_HEADER];
      this.user = Array.isArray(value) ? value[0] : value;
      if (!this.user) return sendProblem(this.#res, new UserRequiredError(binding.dsn.name));
    }
    try {
      this.#credential = await provider.credential(this);
    } catch (e) {
      if (!this.#clientGone) this.#fail(asTokenshimError(e, binding.dsn.name));
      return;
    }
    if (this.#clientGone) return;
    const head = buildRequestHead(this.#req.rawHeaders, {
      credential: this.#credential,
      stripAuthorization:
        provider.stripsClientAuthorization || this.#target.clientKeyInAuthorization === true,
      upstreamHost: this.#target.host,
      clientProto: (this.#req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
      clientAddress: this.#req.socket.remoteAddress,
    });
    this.#headers = head.headers;
    if (paging?.plan !== undefined) {
      this.#headers = pageRequestHeaders(head.headers, paging.plan);
      this.#walk = this.#newWalk(paging.plan);
    }
    if (expectContinue) this.#res.writeContinue();
    if (head.hasBody) {
      watchBodyIdle(this.#req, this.#clientIdleMs);
      // only a body that a replay or a retry could send again is worth holding
      try {
        this.#body =
          this.#mayResend() && binding.dsn.replayBodyLimitBytes > 0
            ? await readReplayableBody(
                this.#req,
                head.contentLength,
                binding.dsn.replayBodyLimitBytes,
              )
            : { kind: 'stream', stream: this.#req };
      } catch (e) {
        // the client went away while sending its body: there is no one to answer
        this.#log.debug({ dsn: binding.dsn.name, err: e }, 'request body not received');
        this.#res.destroy();
        return;
      }
      if (this.#clientGone) return;
    }
    if (this.#walk !== undefined) this.#walk.start();
    else this.#dispatch();
  }

  #newWalk(plan: PagingPlan): PageWalk {
    const { binding, corsOrigin } = this.#target;
    // the joined answer is tokenshim's own: its CORS headers are set here, not taken upstream
    if (corsOrigin !== undefined) setCorsHeaders(this.#res, corsOrigin);
    return new PageWalk(
      {
        plan,
        first: { origin: this.#origin, host: this.#host, path: this.#path },
        res: this.#res,
        log: this.#log,
        dsn: binding.dsn.name,
        credentialOrigins: binding.credentialOrigins,
        ...(this.#target.rewriteBodyUrls ? { rewrite: this.#linkRewrite() } : {}),
      },
      this,
    );
  }

  /** PageSource: one page of a joined answer; after the first, with a fresh credential. */
  fetchPage(page: PageAddress): void {
    if (this.#clientGone) return;
    this.#resetRetried = false;
    this.#tokenReplayed = false;
    this.#retryBudget = undefined;
    if (page.host !== this.#host) {
      for (let i = 0; i < this.#headers.length; i += 2)
        if (this.#headers[i] === 'host') this.#headers[i + 1] = page.host;
      this.#host = page.host;
    }
    this.#origin = page.origin;
    this.#path = page.path;
    if (this.#pages++ === 0) this.#dispatch();
    else void this.#replay();
  }

  /**
   * The options credential() gets are the exchange itself (`user`, `signal`): no object per
   * request, and the signal is made only when the provider reads it (a cached token answers
   * without looking; an AbortController per request is measurable at proxy rates).
   */
  get signal(): AbortSignal {
    this.#signal ??= new AbortController();
    if (this.#clientGone) this.#signal.abort();
    return this.#signal.signal;
  }

  /** A replay (the token was rejected) or a retry (the upstream said later) could send it again. */
  #mayResend(): boolean {
    const dsn = this.#target.binding.dsn;
    if (dsn.retryOnStatus.length > 0 && dsn.maxRetryWaitSeconds > 0) return true;
    return (
      this.#credential.accessToken !== undefined &&
      (dsn.refreshOnStatus.length > 0 || dsn.refreshOnBody !== undefined)
    );
  }

  #dispatch(): void {
    this.#answered = false;
    if (this.#observer) this.#sentAt = performance.now();
    const body = this.#body;
    this.#target.binding.dispatcher.dispatch(
      {
        origin: this.#origin,
        path: applyQueryCredential(this.#path, this.#credential),
        method: this.#req.method ?? 'GET',
        headers: this.#headers,
        body: body.kind === 'none' ? null : body.kind === 'buffered' ? body.bytes : body.stream,
      },
      this,
    );
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.#clientGone) abort(new ClientClosedError());
    else this.#abortUpstream = abort;
  }

  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean {
    // informational answers (103 Early Hints) are hop-level hints: the final answer follows
    if (statusCode < 200) return true;
    if (this.#observer) this.#upstreamSeconds = (performance.now() - this.#sentAt) / 1000;
    if (statusCode >= 400 && this.#rejectedOrLater(statusCode, rawHeaders)) return true;
    this.#resume = resume;
    if (statusCode < 300 && this.#mayRejectInBody())
      return this.#holdOrAnswer(statusCode, rawHeaders, statusText);
    this.#answer(statusCode, rawHeaders, statusText);
    return true;
  }

  /**
   * A RefreshOnStatus answer to the token this request carried, or a RetryOnStatus answer: true
   * when it is dropped for a replay with a fresh token or a retry after the wait it names.
   */
  #rejectedOrLater(statusCode: number, rawHeaders: Buffer[]): boolean {
    const dsn = this.#target.binding.dsn;
    if (
      this.#credential.accessToken !== undefined &&
      dsn.refreshOnStatus.includes(statusCode) &&
      this.#tokenRejected()
    ) {
      this.#discarding = 'replay';
      return true;
    }
    if (!dsn.retryOnStatus.includes(statusCode) || this.#body.kind === 'stream') return false;
    const budget = (this.#retryBudget ??= new RetryBudget());
    const wait = budget.take(
      retryAfterOf(rawHeaders),
      this.#clock.now(),
      dsn.maxRetryWaitSeconds * 1000,
    );
    if (wait === undefined) return false;
    this.#retriesInAll++;
    this.#retryWaitMs = wait;
    this.#discarding = 'retry';
    logRetry(this.#log, dsn.name, statusCode, budget.retries, wait);
    return true;
  }

  /** RefreshOnBody applies: the DSN has conditions, and this request carried a token. */
  #mayRejectInBody(): boolean {
    return (
      this.#target.binding.dsn.refreshOnBody !== undefined &&
      this.#credential.accessToken !== undefined
    );
  }

  /** A small JSON answer is held back until its body has been examined (RefreshOnBody). */
  #holdOrAnswer(statusCode: number, rawHeaders: Buffer[], statusText: string): boolean {
    const headers = buildResponseHead(rawHeaders, this.#linkRewrite, this.#target.corsOrigin);
    const coding = inspectableCoding(this.#req.method, statusCode, headers);
    if (coding === undefined) this.#answer(statusCode, rawHeaders, statusText, headers);
    else this.#held = new HeldAnswer(statusCode, statusText, rawHeaders, headers, coding);
    return true;
  }

  /** The held answer's body is all here: a rejected token replays the request, else it goes on. */
  #judgeHeld(held: HeldAnswer): void {
    const dsn = this.#target.binding.dsn;
    const rejection = held.rejection(dsn.refreshOnBody ?? []);
    if (rejection !== undefined) {
      this.#log.info(
        { dsn: dsn.name, status: held.status, condition: conditionText(rejection) },
        'the upstream rejected the token in its answer body (RefreshOnBody)',
      );
      if (this.#tokenRejected()) return void this.#replay();
    }
    this.#answer(held.status, held.rawHeaders, held.statusText, held.headers);
    const body = held.body();
    if (body.length > 0) this.#pass(body);
    this.onComplete();
  }

  /**
   * The upstream rejected the token this request carried: the provider hears of it (compare-
   * and-invalidate), and the request is replayed once with a fresh token when its body can be
   * sent again. True when it is.
   */
  #tokenRejected(): boolean {
    // only the first answer reports the token: a replay carries the token just fetched for it,
    // and dropping that one too would make an API that rejects everything cost two token
    // requests per request
    if (this.#tokenReplayed) return false;
    const freshMayHelp = this.#target.binding.provider.invalidate(this.#credential);
    if (!freshMayHelp || this.#body.kind === 'stream') return false;
    this.#tokenReplayed = true;
    this.#replayed = true;
    return true;
  }

  /** The upstream's answer head goes to the client (through a sink when the body is transformed). */
  #answer(
    statusCode: number,
    rawHeaders: Buffer[],
    statusText: string,
    head: string[] = buildResponseHead(rawHeaders, this.#linkRewrite, this.#target.corsOrigin),
  ): void {
    this.#answered = true;
    // a connection kept alive now would only be cut at the end of the drain, mid-request maybe
    if (this.#target.binding.draining) this.#res.shouldKeepAlive = false;
    if (this.#walk !== undefined) {
      this.#sink = this.#walk.head(statusCode, rawHeaders, this.#onDrain);
      return;
    }
    const headers = head;
    if (this.#target.rewriteBodyUrls) {
      const coding = rewritableJsonCoding(this.#req.method, statusCode, headers);
      if (coding !== undefined) {
        // the rewriting sink writes the head, with the body's new length when it can
        this.#sink = this.#jsonRewrite(coding, headers, statusCode, statusText);
        return;
      }
    }
    if (statusText) this.#res.writeHead(statusCode, statusText, headers);
    else this.#res.writeHead(statusCode, headers);
  }

  onData(chunk: Buffer): boolean {
    if (this.#discarding !== undefined) return true;
    const held = this.#held;
    if (held === undefined) return this.#pass(chunk);
    if (held.add(chunk)) return true;
    // longer than is examined: it goes on as it came, from its first byte
    this.#held = undefined;
    this.#answer(held.status, held.rawHeaders, held.statusText, held.headers);
    return this.#pass(held.body());
  }

  #pass(chunk: Buffer): boolean {
    if (this.#sink !== undefined) return this.#sink.write(chunk);
    if (this.#res.write(chunk)) return true;
    this.#res.once('drain', this.#onDrain);
    return false;
  }

  onComplete(): void {
    const held = this.#held;
    if (held !== undefined) {
      this.#held = undefined;
      return this.#judgeHeld(held);
    }
    const next = this.#discarding;
    if (next !== undefined) {
      this.#discarding = undefined;
      if (next === 'replay') void this.#replay();
      else this.#retryTimer = this.#clock.setTimeout(this.#retry, this.#retryWaitMs);
      return;
    }
    const sink = this.#sink;
    if (sink === undefined) return void this.#res.end();
    this.#sink = undefined;
    sink.end();
  }

  onError(err: Error): void {
    this.#sink?.abort();
    this.#sink = undefined;
    this.#held = undefined;
    if (this.#clientGone) return;
    if (this.#mayRetryReset(err)) {
      // a pooled keep-alive connection the upstream had just closed: send once more on a fresh one
      this.#resetRetried = true;
      this.#dispatch();
      return;
    }
    const failure = describeUpstreamFailure(err, this.#target.binding.dsn, this.#origin);
    this.#log.warn(
      { dsn: this.#target.binding.dsn.name, code: failure.code, cause: causeText(err) },
      failure.message,
    );
    this.#fail(failure);
  }

  /** Once, before any answer, and only when the body can be sent again. */
  #mayRetryReset(err: Error): boolean {
    if (this.#resetRetried || this.#answered || this.#body.kind === 'stream') return false;
    return resendableAfterReset(this.#req.method ?? 'GET', err);
  }

  async #replay(): Promise<void> {
    const previous = this.#credential;
    const { binding } = this.#target;
    try {
      this.#credential = await binding.provider.credential(this);
    } catch (e) {
      if (!this.#clientGone) this.#fail(asTokenshimError(e, binding.dsn.name));
      return;
    }
    if (this.#clientGone) return;
    this.#headers = replaceCredentialHeaders(this.#headers, previous, this.#credential);
    this.#dispatch();
  }

  #fail(error: TokenshimError): void {
    if (this.#walk !== undefined) this.#walk.failed(error);
    else sendProblem(this.#res, error);
  }

  readonly #onDrain = (): void => {
    this.#resume?.();
  };

  readonly #retry = (): void => {
    this.#retryTimer = undefined;
    if (!this.#clientGone) this.#dispatch();
  };

  readonly #onClientClose = (): void => {
    this.#target.binding.leave();
    const finished = this.#res.writableFinished;
    if (this.#observer) {
      this.#observer.exchangeEnded({
        dsn: this.#target.binding.dsn.name,
        method: this.#req.method ?? 'GET',
        status: finished || this.#res.headersSent ? this.#res.statusCode : 0,
        replayed: this.#replayed,
        retries: this.#retriesInAll,
        path: this.#req.url ?? '/',
        durationSeconds: (performance.now() - this.#startedAt) / 1000,
        ...(this.#upstreamSeconds === undefined ? {} : { upstreamSeconds: this.#upstreamSeconds }),
      });
    }
    if (finished) return;
    this.#clientGone = true;
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    this.#signal?.abort();
    this.#abortUpstream?.(new ClientClosedError());
  };

  readonly #linkRewrite = (): LinkRewrite =>
    (this.#rewrite ??= {
      upstreamOrigin: this.#target.origin,
      upstreamBasePath: this.#target.upstreamBasePath,
      publicOrigin: this.#target.publicOrigin,
      publicBasePath: this.#target.publicBasePath,
      ...(this.#credential.query.length === 0
        ? {}
        : { credentialParams: this.#credential.query.map(([name]) => name) }),
    });

  #jsonRewrite(
    coding: ContentCoding,
    headers: string[],
    status: number,
    statusText: string,
  ): BodySink {
    return jsonBodyRewrite(headers, coding, {
      rewrite: this.#linkRewrite(),
      res: this.#res,
      status,
      statusText,
      resume: this.#onDrain,
      log: this.#log,
      dsn: this.#target.binding.dsn.name,
      origin: this.#origin,
    });
  }
}
