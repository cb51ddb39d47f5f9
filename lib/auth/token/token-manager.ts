/**
 * One DSN's (or one DSN user's) access token, as a small state machine. README.md, "Token
 * lifecycle", says what a user sees; this table is how the code gets there.
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
 *   (the failure, then throws the failure until the backoff  invalidate(token) -> failing, without it
 *   maybe a       ends, and fetches again                    refused for good -> needs-login
 *   token)
 *   needs-login   throws NeedsLoginError; first, at most     a refresh token other than the refused
 *   (the refusal) every 2 s, looks in the store for a new    one appears in the store (tokenshim
 *                 refresh token                              login) -> empty
 *
 * Orthogonal to the state:
 * - `#inflight`: at most one fetch at a time, shared by every caller (single flight); status()
 *   says `refreshing` while it runs, and `expired` for a valid token past its deadline;
 * - `#init`: the store is read once, before the first token is handed out;
 * - `#closed`: close() stops the refresh timer; no background refresh starts after it.
 *
 * The rules the states serve (how a token is fetched and saved is token-source.ts):
 * - expiry counts from when the token request was sent; a token is refreshed in the background
 *   once its remaining life drops below min(RefreshMargin, lifetime / 10), early enough for the
 *   fetch to be back before the token stops being handed out (token-timing.ts); expiry is also
 *   checked on every call, because timers stall while a laptop sleeps;
 * - a token known to be expired is never handed out;
 * - network errors, 5xx and 429 back off exponentially (Retry-After honoured) while a valid token
 *   keeps being served; terminal OAuth errors mark the DSN "needs login" (token-failure.ts).
 *
 * Where the next rules go: a binding retired by a reload is a closed manager, and `#startFetch`
 * (here) and `#persist` (token-source.ts) are the only places a fetch starts and the store is
 * written; a rotated refresh token whose save failed is caught in `#persist`, the place to hold
 * it as "save pending" for `#nextGrant` (token-source.ts) and status(); a forced refresh or a
 * prefetch at start is one more RefreshTrigger for `#startFetch`; a limit on rejection-driven
 * refreshes belongs in `invalidate`.
 */
import type { Dispatcher } from 'undici';
import { systemClock, type Clock, type ClockTimer } from '../../clock.js';
import type { DsnConfig } from '../../config/dsn.js';
import type { NeedsLoginError, TokenshimError } from '../../errors.js';
import type { TokenStatus } from '../credential.js';
import type { TokenStore } from '../stores/token-store.js';
import type { TokenEngineDeps } from '../token-engine-deps.js';
import type { RefreshTrigger } from '../token-events.js';
import type { AccessToken } from './access-token.js';
import { classifyFailure } from './token-failure.js';
import type { TokenEndpointMethod } from '../token-endpoint-method.js';
import { TokenReporter } from './token-reporter.js';
import { TokenSource, type FetchAttempt } from './token-source.js';
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

/** The last failure, while no fetch has succeeded since. */
interface Failure {
  /** what callers see while no token is valid */
  readonly error: TokenshimError;
  /** failed fetches in a row */
  readonly attempts: number;
  /** epoch ms: no new fetch before this (backoff) */
  readonly nextAttemptAt: number;
}

interface NeedsLogin {
  readonly kind: 'needs-login';
  /** what every caller gets until a login */
  readonly error: NeedsLoginError;
  /** epoch ms of the last look for a new refresh token in the store */
  readonly checkedAt: number;
}

type TokenState =
  | { readonly kind: 'empty' }
  | { readonly kind: 'valid'; readonly token: AccessToken }
  | { readonly kind: 'failing'; readonly token: AccessToken | undefined; readonly failure: Failure }
  | NeedsLogin;

const EMPTY: TokenState = Object.freeze({ kind: 'empty' });

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
  #inflight: Promise<AccessToken> | undefined;
  #closed = false;
  #timer: ClockTimer | undefined;
  #refreshedAt: number | undefined;

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
   * current token drops it, so a hundred parallel 401s cause one refresh. True when a fresh token
   * may help (false once the DSN needs a login).
   */
  invalidate(accessToken: string): boolean {
    this.#source.invalidate(accessToken);
    const state = this.#state;
    if (state.kind === 'needs-login') return false;
    if (state.kind !== 'empty' && state.token?.accessToken === accessToken) {
      this.#report.invalidated();
      this.#state = state.kind === 'valid' ? EMPTY : { ...state, token: undefined };
      this.#cancelTimer();
    }
    return true;
  }

  status(): TokenStatus {
    const state = this.#state;
    const token = this.#heldToken();
    const base = {
      tokenRequests: this.#source.tokenRequests,
      ...(token ? { expiresAt: token.expiresAt } : {}),
      ...(this.#refreshedAt === undefined ? {} : { refreshedAt: this.#refreshedAt }),
    };
    const ready = token !== undefined && this.#beforeHandOutDeadline(token, this.#clock.now());
    const refreshing = this.#inflight !== undefined;
    switch (state.kind) {
      case 'needs-login':
        return { state: 'needs-login', ...base, lastError: state.error.message };
      case 'empty':
        return { state: refreshing ? 'refreshing' : 'empty', ...base };
      case 'valid':
        return { state: refreshing ? 'refreshing' : ready ? 'valid' : 'expired', ...base };
      case 'failing':
        return {
          state: refreshing ? 'refreshing' : ready ? 'valid' : 'failing',
          ...base,
          lastError: state.failure.error.message,
        };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelTimer();
    await this.#inflight?.catch(() => undefined);
  }

  async #getToken(): Promise<AccessToken> {
    await this.#ensureInit();
    if (this.#state.kind === 'needs-login') await this.#recheckNeedsLogin(this.#state);

    const now = this.#clock.now();
    const ready = this.#readyTokenAt(now);
    if (ready) return ready;
    if (this.#inflight) return this.#inflight;
    const state = this.#state;
    if (state.kind === 'failing' && now < state.failure.nextAttemptAt) throw state.failure.error;
    return this.#startFetch('on_demand');
  }

  #readyTokenAt(now: number): AccessToken | undefined {
    const token = this.#heldToken();
    if (!token || !this.#beforeHandOutDeadline(token, now)) return undefined;
    if (
      now >= this.#refreshAt(token) &&
      !this.#inflight &&
      !this.#inBackoff(now) &&
      !this.#closed
    ) {
      void this.#startFetch('ahead_of_expiry');
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

  #startFetch(trigger: RefreshTrigger): Promise<AccessToken> {
    const fetch: Promise<AccessToken> = this.#fetch(trigger).finally(() => {
      if (this.#inflight === fetch) this.#inflight = undefined;
    });
    this.#inflight = fetch;
    // a background refresh has no caller to report to; its outcome is in status() and the events
    if (trigger === 'ahead_of_expiry') fetch.catch(() => undefined);
    return fetch;
  }

  async #fetch(trigger: RefreshTrigger): Promise<AccessToken> {
    const attempt: FetchAttempt = { grantType: this.#source.grantType, requested: false };
    const startedAt = this.#clock.now();
    let token: AccessToken;
    try {
      token = await this.#source.fetch(trigger, this.#heldToken(), attempt);
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

  /** Applies token-failure.ts's verdict to the state; returns what callers should see. */
  #onFailure(e: unknown, trigger: RefreshTrigger, grantType: string): TokenshimError {
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
    const failure = {
      error: verdict.error,
      attempts: verdict.attempts,
      nextAttemptAt: now + verdict.delayMs,
    };
    this.#state = { kind: 'failing', token, failure };
    const stillValid = token !== undefined && this.#beforeHandOutDeadline(token, now);
    if (stillValid && !this.#closed) this.#schedule(failure.nextAttemptAt);
    this.#report.failed(trigger, grantType, verdict, stillValid);
    return verdict.error;
  }

  #scheduleRefresh(token: AccessToken): void {
    if (!this.#closed) this.#schedule(this.#refreshAt(token));
  }

  #schedule(at: number): void {
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
    if (this.#closed || this.#inflight || this.#state.kind === 'needs-login') return;
    const now = this.#clock.now();
    const token = this.#heldToken();
    // with no valid token there is no one to refresh ahead for: the next caller fetches on demand
    if (!token || !this.#beforeHandOutDeadline(token, now) || this.#inBackoff(now)) return;
    if (now >= this.#refreshAt(token)) void this.#startFetch('ahead_of_expiry');
    else this.#scheduleRefresh(token);
  }

  #cancelTimer(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
