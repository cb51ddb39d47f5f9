/**
 * One DSN's (or one DSN user's) access token, as a small state machine (its states and what
 * status() says of each: token-state.ts). README.md, "Token lifecycle", says what a user sees;
 * this table is how the code gets there.
 *
 *   state         getToken()                                 leaves it
 *   ------------  -----------------------------------------  ----------------------------------------
 *   empty         fetches a token                            fetched -> valid
 *   (no token)                                               refused for good -> needs-login
 *                                                            any other failure -> failing
 *   valid         returns the token until its hand-out       fetched -> valid (the new token)
 *   (a token)     deadline, starting the refresh ahead       invalidate(token) -> empty
 *                 once due; past the deadline, fetches       failure -> failing (keeping the token)
 *                                                            refused for good -> needs-login
 *   failing       returns the token until its deadline;      fetched -> valid
 *   (the failure, then throws the failure until the next     invalidate(token) -> failing, without it
 *   maybe a       probe (the backoff, at most a few          refused for good -> needs-login
 *   token)        seconds while callers wait) and fetches
 *   needs-login   throws NeedsLoginError; first, at most     a refresh token other than the refused
 *   (the refusal) every 2 s, looks in the store for a new    one appears in the store (tokenshim
 *                 refresh token                              login) -> empty
 *
 * Orthogonal to the state:
 * - `#inflight`: at most one fetch at a time, shared by every caller (single flight); status()
 *   says `refreshing` while it runs, and `expired` for a valid token past its deadline. Callers
 *   wait for it until HeadersTimeout; the fetch itself goes on for a grace time, because a late
 *   answer holds the only valid refresh token (inflight-fetch.ts);
 * - `#init`: the store is read once, before the first token is handed out; after that the store
 *   is watched, so a token another process wrote (`tokenshim token --force`) is used at once;
 * - `#retired`: a reload replaced the DSN; no token request starts and nothing new is written
 *   (token-source.ts); held tokens serve the requests still in flight;
 * - `#closed`: close() stops the timers; no background refresh starts after it;
 * - `#keepFresh` (Prefetch=1): a token is fetched at start and whenever none is valid, with no
 *   caller waiting, so a refresh chain that lapses when unused stays alive;
 * - the source's owed save: a rotated refresh token whose save failed is saved again every few
 *   seconds until it works; no refresh token is redeemed meanwhile, and status() says why.
 *
 * The rules the states serve (how a token is fetched and saved is token-source.ts):
 * - expiry counts from when the token request was sent; a token is refreshed in the background
 *   once its remaining life drops below min(RefreshMargin, lifetime / 10), early enough for the
 *   fetch to be back before the token stops being handed out (token-timing.ts); expiry is also
 *   checked on every call, because timers stall while a laptop sleeps;
 * - a token known to be expired is never handed out;
 * - network errors, 5xx and 429 back off exponentially (Retry-After honoured) while a valid token
 *   keeps being served; terminal OAuth errors mark the DSN "needs login" (token-failure.ts);
 * - an upstream rejection drops the token at most once per TOKEN_TIMING.rejectionIntervalMs.
 */
import type { Dispatcher } from 'undici';
import { systemClock, type Clock, type ClockTimer } from '../../clock.js';
import type { DsnConfig } from '../../config/dsn.js';
import { DsnReloadedError, type TokenshimError } from '../../errors.js';
import type { TokenStatus } from '../credential.js';
import type { TokenStore } from '../stores/token-store.js';
import type { TokenEngineDeps } from '../token-engine-deps.js';
import type { RefreshTrigger } from '../token-events.js';
import type { AccessToken } from './access-token.js';
import { CoalescedCheck } from './coalesced-check.js';
import { startWithDeadline, type InFlightFetch } from './inflight-fetch.js';
import { SaveRetry } from './save-retry.js';
import { classifyFailure } from './token-failure.js';
import type { TokenEndpointMethod } from '../token-endpoint-method.js';
import { TokenReporter } from './token-reporter.js';
import { TokenSource, type FetchAttempt, type FetchOptions } from './token-source.js';
import {
  EMPTY,
  reportedState,
  type Failure,
  type NeedsLogin,
  type TokenState,
} from './token-state.js';
import { handOutDeadline, refreshAt, RefreshLead, TOKEN_TIMING } from './token-timing.js';

export type { AccessToken } from './access-token.js';

export interface TokenManagerOptions extends TokenEngineDeps {
  readonly dsn: DsnConfig;
  readonly store: TokenStore;
  /** the token endpoint's HTTP client: the provider's, shared by all of a DSN's managers */
  readonly dispatcher: Dispatcher;
  /** the per-user subject substituted for `{user}` in TokenParams; one manager per user */
  readonly user?: string;
  /** GET or POST for TokenURI: the provider's, shared by all of a DSN's managers */
  readonly endpointMethod?: TokenEndpointMethod;
}

export class TokenManager {
  readonly dsn: DsnConfig;
  readonly user: string | undefined;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #report: TokenReporter;
  readonly #source: TokenSource;
  readonly #lead = new RefreshLead();

  #state: TokenState = EMPTY;
  #init: Promise<void> | undefined;
  #loaded = false;
  #inflight: InFlightFetch | undefined;
  #closed = false;
  #retired = false;
  #keepFresh = false;
  #timer: ClockTimer | undefined;
  readonly #saveRetry: SaveRetry;
  #refreshedAt: number | undefined;
  /** epoch ms of the last upstream rejection that dropped the token */
  #rejectedAt = -Infinity;
  #unwatch: (() => void) | undefined;
  readonly #storeChanged = new CoalescedCheck(() => this.#onStoreChanged());

  constructor(opts: TokenManagerOptions) {
    this.dsn = opts.dsn;
    this.user = opts.user;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#report = new TokenReporter({
      dsn: opts.dsn.name,
      user: opts.user,
      logger: opts.logger,
      onEvent: opts.onEvent,
    });
    this.#source = new TokenSource({
      dsn: opts.dsn,
      user: opts.user,
      store: opts.store,
      clock: this.#clock,
      dispatcher: opts.dispatcher,
      report: this.#report,
      refreshAt: (token) => this.#refreshAt(token),
      ...(opts.endpointMethod ? { endpointMethod: opts.endpointMethod } : {}),
    });
    this.#saveRetry = new SaveRetry(this.#clock, () => this.#source.saveOwed());
  }

  /** the token store key: TokenStoreKey, plus the user for per-user tokens */
  get storeKey(): string {
    return this.#source.storeKey;
  }

  /** the grant_type this DSN is configured for */
  get grantType(): string {
    return this.#source.grantType;
  }

  /** A token valid now. Rejects with NeedsLoginError, TokenUnavailableError or TokenEndpointError. */
  getToken(opts: { signal?: AbortSignal } = {}): Promise<AccessToken> {
    const { signal } = opts;
    if (!signal) return this.#getToken();
    if (signal.aborted) return Promise.reject(signal.reason);
    // an aborted caller stops waiting; the shared token request goes on for the others
    return new Promise<AccessToken>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#getToken()
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /**
   * The current token when it can be handed out without waiting, else undefined: the proxy's fast
   * path, with no promise, abort signal or listener per request (they showed in the profile).
   * Starts the background refresh when one is due, exactly as getToken does.
   */
  tokenIfReady(): AccessToken | undefined {
    if (!this.#loaded || this.#state.kind === 'needs-login') return undefined;
    return this.#readyTokenAt(this.#clock.now());
  }

  /**
   * The upstream rejected `accessToken`. Compare-and-invalidate: only the report that names the
   * current token drops it, so a hundred parallel 401s cause one refresh; and at most once per
   * rejection interval, so the token that replaced a rejected one is not dropped by the answer to
   * its own replay. True when a fresh token may help (false once the DSN needs a login, or when
   * the token was just renewed and the upstream still says no).
   */
  invalidate(accessToken: string): boolean {
    const state = this.#state;
    this.#source.invalidate(accessToken);
    if (state.kind === 'needs-login') return false;
    if (state.kind === 'empty' || state.token?.accessToken !== accessToken) return true;
    const now = this.#clock.now();
    if (now - this.#rejectedAt < TOKEN_TIMING.rejectionIntervalMs) {
      this.#report.rejectionIgnored(now - this.#rejectedAt);
      return false;
    }
    this.#rejectedAt = now;
    this.#source.forgetRejected();
    this.#report.invalidated();
    this.#state = state.kind === 'valid' ? EMPTY : { ...state, token: undefined };
    this.#cancelTimer();
    return true;
  }

  /**
   * Replaces the token now (`tokenshim token --force`, POST /_tokenshim/refresh/<DSN>): a token
   * request is made even while the current token is valid or the endpoint backs off, after any
   * fetch already under way; the rotated refresh token is saved before the new token is returned.
   */
  async forceRefresh(): Promise<AccessToken> {
    await this.#ensureInit();
    if (this.#retired) throw new DsnReloadedError(this.dsn.name);
    const state = this.#state;
    if (state.kind === 'needs-login') {
      await this.#recheckNeedsLogin({ ...state, checkedAt: -Infinity });
    }
    const requestedAt = this.#clock.now();
    while (this.#inflight) await this.#inflight.fetch.catch(() => undefined);
    const old = this.#heldToken();
    if (old) this.#source.invalidate(old.accessToken);
    return this.#startFetch('forced', { storedNotBefore: requestedAt });
  }

  /**
   * Prefetch=1: fetch a token now, in the background, and from now on whenever none is valid,
   * with no caller waiting. Failures show in status() (and /ready); nothing throws.
   */
  prefetch(): void {
    this.#keepFresh = true;
    this.#ensureInit().then(
      // what the timer does: fetch unless a valid token is held (or the endpoint backs off)
      () => {
        this.#cancelTimer();
        this.#onTimer();
      },
      () => undefined,
    );
  }

  /**
   * A reload replaced the DSN: no token request starts from now on and nothing new is written
   * (a fetch already under way finishes and saves: the server has rotated by then). Requests in
   * flight keep the token held; one that needs a new token is told to send again.
   */
  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    this.#source.retire();
    this.#cancelTimer();
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  status(): TokenStatus {
    const token = this.#heldToken();
    const unsaved = this.#source.unsaved;
    const reported = reportedState(this.#state, {
      refreshing: this.#inflight !== undefined,
      ready: token !== undefined && this.#beforeHandOutDeadline(token, this.#clock.now()),
    });
    return {
      state: reported.state,
      tokenRequests: this.#source.tokenRequests,
      ...(token ? { expiresAt: token.expiresAt } : {}),
      ...(this.#refreshedAt === undefined ? {} : { refreshedAt: this.#refreshedAt }),
      ...(unsaved === undefined ? {} : { unsaved: unsaved.message }),
      ...(reported.lastError === undefined ? {} : { lastError: reported.lastError }),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelTimer();
    this.#saveRetry.stop();
    this.#unwatch?.();
    this.#unwatch = undefined;
    const inflight = this.#inflight;
    if (inflight) {
      // waited for as callers wait (HeadersTimeout at most): closing is no time to wait the grace
      // time out for a late answer that nothing would use
      await inflight.answer.catch(() => undefined);
      inflight.abandon();
      await inflight.fetch.catch(() => undefined);
    }
    // one last try for a rotated refresh token that is only in memory: after this it is gone
    if (this.#source.unsaved) await this.#source.saveOwed().catch(() => false);
  }

  async #getToken(): Promise<AccessToken> {
    await this.#ensureInit();
    if (this.#state.kind === 'needs-login') await this.#recheckNeedsLogin(this.#state);

    const now = this.#clock.now();
    const ready = this.#readyTokenAt(now);
    if (ready) return ready;
    if (this.#inflight) return this.#inflight.answer;
    if (this.#retired) throw new DsnReloadedError(this.dsn.name);
    const state = this.#state;
    if (state.kind === 'failing' && now < state.failure.probeAt) throw state.failure.error;
    return this.#startFetch('on_demand');
  }

  #readyTokenAt(now: number): AccessToken | undefined {
    const token = this.#heldToken();
    if (!token || !this.#beforeHandOutDeadline(token, now)) return undefined;
    if (now >= this.#refreshAt(token) && !this.#inflight && !this.#inBackoff(now)) {
      this.#startInBackground('ahead_of_expiry');
    }
    return token;
  }

  #heldToken(): AccessToken | undefined {
    const state = this.#state;
    return state.kind === 'valid' || state.kind === 'failing' ? state.token : undefined;
  }

  #beforeHandOutDeadline(token: AccessToken, now: number): boolean {
    return now < handOutDeadline(token);
  }

  #refreshAt(token: AccessToken): number {
    return refreshAt(token, this.dsn.refreshMarginSeconds * 1000, this.#lead.leadMs);
  }

  #inBackoff(now: number): boolean {
    return this.#state.kind === 'failing' && now < this.#state.failure.nextAttemptAt;
  }

  #ensureInit(): Promise<void> {
    this.#init ??= this.#loadFromStore().then(
      () => {
        this.#loaded = true;
      },
      (e: unknown) => {
        this.#init = undefined;
        throw e;
      },
    );
    return this.#init;
  }

  async #loadFromStore(): Promise<void> {
    const adopted = await this.#source.load();
    if (adopted) {
      this.#state = { kind: 'valid', token: adopted };
      this.#scheduleRefresh(adopted);
    }
    if (!this.#closed && !this.#retired && !this.#unwatch) {
      this.#unwatch = this.#source.watch(() => this.#storeChanged.notify());
    }
  }

  /** A DSN that needs a login comes back when a new refresh token appears in the store. */
  async #recheckNeedsLogin(state: NeedsLogin): Promise<void> {
    const now = this.#clock.now();
    if (now - state.checkedAt >= TOKEN_TIMING.needsLoginRecheckMs) {
      this.#state = { ...state, checkedAt: now };
      if (await this.#source.loginStored()) {
        this.#state = EMPTY;
        return;
      }
    }
    throw state.error;
  }

  /**
   * Someone else wrote the store: a login for a DSN that needs one, or a newer token (a forced
   * refresh by `tokenshim token --force`, another instance's refresh) to use from now on.
   */
  async #onStoreChanged(): Promise<void> {
    if (this.#closed || this.#retired || this.#inflight) return;
    if (this.#state.kind === 'needs-login') {
      if (await this.#source.loginStored()) this.#state = EMPTY;
      return;
    }
    const newer = await this.#source.newerStored(this.#heldToken());
    if (!newer || this.#inflight || this.#closed || this.#retired) return;
    this.#state = { kind: 'valid', token: newer };
    this.#report.takenFromStore();
    this.#scheduleRefresh(newer);
  }

  #startInBackground(trigger: RefreshTrigger): void {
    if (this.#closed || this.#retired) return;
    // a background refresh has no caller to report to; its outcome is in status() and the events
    this.#startFetch(trigger).catch(() => undefined);
  }

  #startFetch(trigger: RefreshTrigger, opts: FetchOptions = {}): Promise<AccessToken> {
    const inflight = startWithDeadline((wait) => this.#fetch(trigger, { ...opts, ...wait }), {
      clock: this.#clock,
      dsn: this.dsn.name,
      answerMs: this.dsn.headersTimeoutSeconds * 1000,
      graceMs: TOKEN_TIMING.lateAnswerGraceMs,
      onOverdue: (error) => this.#onOverdue(error),
    });
    this.#inflight = inflight;
    inflight.fetch.then(
      () => this.#fetchEnded(inflight),
      () => this.#fetchEnded(inflight),
    );
    return inflight.answer;
  }

  #fetchEnded(inflight: InFlightFetch): void {
    if (this.#inflight === inflight) this.#inflight = undefined;
    if (this.#source.unsaved) this.#saveRetry.start();
  }

  async #fetch(trigger: RefreshTrigger, opts: FetchOptions): Promise<AccessToken> {
    // never a token request before the store was read: its refresh token may be newer than ours
    await this.#ensureInit();
    const attempt: FetchAttempt = { grantType: this.#source.grantType, requested: false };
    const startedAt = this.#clock.now();
    let token: AccessToken;
    try {
      token = await this.#source.fetch(trigger, this.#heldToken(), attempt, opts);
    } catch (e) {
      throw this.#onFailure(e, trigger, attempt.grantType);
    }
    this.#state = { kind: 'valid', token };
    this.#refreshedAt = this.#clock.now();
    // a token another instance had stored came without a request: it says nothing of the endpoint
    if (attempt.requested) this.#lead.recordFetch(this.#refreshedAt - startedAt);
    this.#scheduleRefresh(token);
    return token;
  }

  /** At the callers' deadline: they are told, and the fetch goes on for the grace time. */
  #onOverdue(error: TokenshimError): void {
    const state = this.#state;
    if (state.kind !== 'needs-login') {
      const attempts = state.kind === 'failing' ? state.failure.attempts : 0;
      const until = this.#clock.now() + TOKEN_TIMING.lateAnswerGraceMs;
      const failure = { error, attempts, nextAttemptAt: until, probeAt: until };
      this.#state = { kind: 'failing', token: this.#heldToken(), failure };
    }
    this.#report.answerOverdue(
      this.dsn.headersTimeoutSeconds * 1000,
      TOKEN_TIMING.lateAnswerGraceMs,
    );
  }

  /** Applies token-failure.ts's verdict to the state; returns what callers should see. */
  #onFailure(e: unknown, trigger: RefreshTrigger, grantType: string): TokenshimError {
    // the DSN was replaced while this fetch waited for the lock: nothing to learn about its state
    if (e instanceof DsnReloadedError) return e;
    const now = this.#clock.now();
    const state = this.#state;
    const verdict = classifyFailure(e, {
      dsn: this.dsn.name,
      grantType,
      livesOnRefreshTokens: this.#source.livesOnRefreshTokens,
      failuresBefore: state.kind === 'failing' ? state.failure.attempts : 0,
      random: this.#random,
    });
    if (verdict.kind === 'needs-login') {
      this.#state = { kind: 'needs-login', error: verdict.error, checkedAt: now };
      this.#cancelTimer();
      this.#report.failed(trigger, grantType, verdict, false);
      return verdict.error;
    }
    const token = this.#heldToken();
    const failure: Failure = {
      error: verdict.error,
      attempts: verdict.attempts,
      nextAttemptAt: now + verdict.delayMs,
      probeAt: now + verdict.probeInMs,
    };
    this.#state = { kind: 'failing', token, failure };
    const stillValid = token !== undefined && this.#beforeHandOutDeadline(token, now);
    if (stillValid || this.#keepFresh) this.#schedule(failure.nextAttemptAt);
    this.#report.failed(trigger, grantType, verdict, stillValid);
    return verdict.error;
  }

  #scheduleRefresh(token: AccessToken): void {
    this.#schedule(this.#refreshAt(token));
  }

  #schedule(at: number): void {
    if (this.#closed || this.#retired) return;
    this.#cancelTimer();
    const timer = this.#clock.setTimeout(
      () => this.#onTimer(),
      Math.max(0, at - this.#clock.now()),
    );
    timer.unref?.();
    this.#timer = timer;
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#closed || this.#retired || this.#inflight) return;
    if (this.#state.kind === 'needs-login') return;
    const now = this.#clock.now();
    const token = this.#heldToken();
    if (this.#inBackoff(now)) {
      // a clamped timer (a wait longer than the platform's maximum) fires early: wait again
      if (this.#state.kind === 'failing') this.#schedule(this.#state.failure.nextAttemptAt);
      return;
    }
    if (!token || !this.#beforeHandOutDeadline(token, now)) {
      // with no valid token there is no one to refresh ahead for: the next caller fetches on
      // demand, unless the DSN is kept fresh with no traffic (Prefetch=1)
      if (this.#keepFresh) this.#startInBackground('prefetch');
      return;
    }
    if (now >= this.#refreshAt(token)) this.#startInBackground('ahead_of_expiry');
    else this.#scheduleRefresh(token);
  }

  #cancelTimer(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
