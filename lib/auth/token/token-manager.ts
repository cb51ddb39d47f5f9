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
 * The rules the states serve:
 * - expiry counts from when the token request was sent; a token is refreshed in the background
 *   once its remaining life drops below min(RefreshMargin, lifetime / 10), early enough for the
 *   fetch to be back before the token stops being handed out (token-timing.ts); expiry is also
 *   checked on every call, because timers stall while a laptop sleeps;
 * - a token known to be expired is never handed out;
 * - network errors, 5xx and 429 back off exponentially (Retry-After honoured) while a valid token
 *   keeps being served; terminal OAuth errors mark the DSN "needs login" (token-failure.ts);
 * - every fetch runs inside the store's refresh lock and re-reads the store first, so another
 *   process (or instance, with Redis) that refreshed already is believed, not raced; a rotated
 *   refresh token is saved before the token that came with it is used (token-lineage.ts).
 *
 * Where the next rules go: a binding retired by a reload is a closed manager, and `#startFetch`
 * and `#persist` are the only places a fetch starts and the store is written; a rotated refresh
 * token whose save failed is caught in `#persist`, the place to hold it as "save pending" for
 * `#nextGrant` and status(); a forced refresh or a prefetch at start is one more RefreshTrigger
 * for `#startFetch`; a limit on rejection-driven refreshes belongs in `invalidate`.
 */
import type { Dispatcher } from 'undici';
import { systemClock, type Clock, type ClockTimer } from '../../clock.js';
import type { DsnConfig } from '../../config/dsn.js';
import { NeedsLoginError, TokenEndpointError, type TokenshimError } from '../../errors.js';
import { clientAuthFor, type ClientAuth } from '../client-auth.js';
import type { TokenStatus } from '../credential.js';
import { grantPlanFor, type GrantPlan } from '../grants/grant-plan.js';
import type { Grant } from '../grants/grant.js';
import { refreshTokenGrant } from '../grants/refresh-token.js';
import type { StoredTokens, TokenStore } from '../stores/token-store.js';
import type { TokenSet } from '../token-endpoint.js';
import type { TokenEngineDeps } from '../token-engine-deps.js';
import type { RefreshTrigger } from '../token-events.js';
import { accessTokenOf, type AccessToken } from './access-token.js';
import { classifyFailure } from './token-failure.js';
import { TokenLineage } from './token-lineage.js';
import { TokenReporter } from './token-reporter.js';
import { requestToken } from './token-request.js';
import { handOutDeadline, refreshAt, RefreshLead, TOKEN_TIMING } from './token-timing.js';

export type { AccessToken } from './access-token.js';

export interface TokenManagerOptions extends TokenEngineDeps {
  readonly dsn: DsnConfig;
  readonly store: TokenStore;
  /** the token endpoint's HTTP client: the provider's, shared by all of a DSN's managers */
  readonly dispatcher: Dispatcher;
  /** the per-user subject substituted for `{user}` in TokenParams; one manager per user */
  readonly user?: string;
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

/** What a fetch learned on its way, for the failure report and the fetch-time record. */
interface FetchAttempt {
  grantType: string;
  /** a token request was sent (a token another instance stored is taken without one) */
  requested: boolean;
}

export class TokenManager {
  readonly dsn: DsnConfig;
  readonly user: string | undefined;
  /** the token store key: TokenStoreKey, plus the user for per-user tokens */
  readonly storeKey: string;
  readonly #store: TokenStore;
  readonly #clock: Clock;
  readonly #dispatcher: Dispatcher;
  readonly #report: TokenReporter;
  readonly #random: () => number;
  readonly #plan: GrantPlan;
  readonly #clientAuth: ClientAuth;
  readonly #lineage: TokenLineage;
  readonly #lead = new RefreshLead();

  #state: TokenState = EMPTY;
  #init: Promise<void> | undefined;
  #loaded = false;
  #inflight: Promise<AccessToken> | undefined;
  #closed = false;
  #timer: ClockTimer | undefined;
  #tokenRequests = 0;
  #refreshedAt: number | undefined;

  constructor(opts: TokenManagerOptions) {
    this.dsn = opts.dsn;
    this.user = opts.user;
    this.storeKey =
      opts.user === undefined
        ? opts.dsn.tokenStoreKey
        : `${opts.dsn.tokenStoreKey}#user=${opts.user}`;
    this.#store = opts.store;
    this.#clock = opts.clock ?? systemClock;
    this.#dispatcher = opts.dispatcher;
    this.#report = new TokenReporter({
      dsn: opts.dsn.name,
      user: opts.user,
      logger: opts.logger,
      onEvent: opts.onEvent,
    });
    this.#random = opts.random ?? Math.random;
    this.#plan = grantPlanFor(opts.dsn);
    this.#clientAuth = clientAuthFor(opts.dsn);
    this.#lineage = new TokenLineage(opts.dsn, this.#plan.grantType, opts.user);
  }

  /** the grant_type this DSN is configured for */
  get grantType(): string {
    return this.#plan.grantType;
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
    this.#lineage.invalidate(accessToken);
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
      tokenRequests: this.#tokenRequests,
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
    const stored = await this.#store.load(this.storeKey);
    const descends = this.#lineage.start(stored);
    if (!stored) return;
    const adopted = descends ? this.#adoptable(stored) : undefined;
    if (adopted) {
      this.#state = { kind: 'valid', token: adopted };
      this.#scheduleRefresh(adopted);
    }
    this.#report.storeLoaded(
      this.#store.description,
      stored.refreshToken !== undefined && descends,
    );
  }

  /** A stored access token worth using: same request, not rejected, not yet due for refresh. */
  #adoptable(stored: StoredTokens): AccessToken | undefined {
    const token = this.#lineage.storedAccessToken(stored);
    if (!token) return undefined;
    const now = this.#clock.now();
    return this.#beforeHandOutDeadline(token, now) && now < this.#refreshAt(token)
      ? token
      : undefined;
  }

  /** A DSN that needs a login comes back when a new refresh token appears in the store. */
  async #recheckNeedsLogin(state: NeedsLogin): Promise<void> {
    const now = this.#clock.now();
    if (now - state.checkedAt >= TOKEN_TIMING.needsLoginRecheckMs) {
      this.#state = { ...state, checkedAt: now };
      const stored = await this.#store.load(this.storeKey).catch(() => undefined);
      if (this.#lineage.adoptIfDifferent(stored) !== undefined) {
        this.#report.loginDetected();
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
    const attempt: FetchAttempt = { grantType: this.#plan.grantType, requested: false };
    const startedAt = this.#clock.now();
    let token: AccessToken;
    try {
      token = await this.#store.withRefreshLock(this.storeKey, () =>
        this.#fetchLocked(trigger, attempt),
      );
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

  /** Inside the refresh lock: a token another process stored meanwhile, else a token request. */
  async #fetchLocked(trigger: RefreshTrigger, attempt: FetchAttempt): Promise<AccessToken> {
    const stored = await this.#store.load(this.storeKey);
    this.#lineage.adoptIfNewer(stored);
    const fromStore = stored ? this.#adoptable(stored) : undefined;
    if (fromStore && fromStore.accessToken !== this.#heldToken()?.accessToken) {
      this.#report.fetched(trigger, attempt.grantType, fromStore, { refreshTokenRotated: false });
      return fromStore;
    }

    const grant = this.#nextGrant();
    attempt.grantType = grant.grantType;
    attempt.requested = true;
    const set = await this.#redeem(grant, trigger);
    const spentOAuthCode = grant === this.#plan.initial && this.#plan.initialOnce;
    const rotated = this.#lineage.received(set, spentOAuthCode);
    const token = accessTokenOf(set);
    // the rotated refresh token is on disk before anything uses what came with it
    await this.#persist(token);
    this.#report.fetched(trigger, grant.grantType, token, {
      refreshTokenRotated: rotated,
      lifetimeFrom: set.lifetimeSource,
    });
    return token;
  }

  #nextGrant(): Grant {
    const refreshToken = this.#lineage.refreshToken;
    if (this.#plan.refreshes && refreshToken) return refreshTokenGrant(refreshToken);
    if (this.#plan.initial && !(this.#plan.initialOnce && this.#lineage.oauthCodeUsed))
      return this.#plan.initial;
    const why =
      this.#plan.initial === undefined
        ? 'no refresh token: RefreshToken is not set and none is stored'
        : 'the OAuthCode was exchanged already (codes are single-use) and no refresh token came with it';
    throw new NeedsLoginError(this.dsn.name, why);
  }

  /**
   * Sends `grant`. After a terminal refusal of a refresh token the store may hold a newer one
   * (another instance won the race, or `tokenshim login` just ran): one more try with it.
   */
  async #redeem(grant: Grant, trigger: RefreshTrigger): Promise<TokenSet> {
    try {
      return await this.#request(grant, trigger);
    } catch (e) {
      const refusedRefreshToken =
        e instanceof TokenEndpointError && e.terminal && grant.grantType === 'refresh_token';
      if (!refusedRefreshToken) throw e;
      const stored = await this.#store.load(this.storeKey);
      const newer = this.#lineage.adoptIfDifferent(stored);
      if (newer === undefined) throw e;
      this.#report.refreshTokenReloaded();
      return this.#request(refreshTokenGrant(newer), trigger);
    }
  }

  #request(grant: Grant, trigger: RefreshTrigger): Promise<TokenSet> {
    const context = {
      dsn: this.dsn,
      user: this.user,
      clientAuth: this.#clientAuth,
      clock: this.#clock,
      dispatcher: this.#dispatcher,
    };
    const held = {
      refreshToken: this.#lineage.refreshToken,
      accessToken: this.#heldToken()?.accessToken,
    };
    return requestToken(grant, context, held, (endpoint) => {
      this.#tokenRequests++;
      this.#report.requested(trigger, grant.grantType, endpoint);
    });
  }

  async #persist(token: AccessToken): Promise<void> {
    try {
      await this.#store.save(this.storeKey, this.#lineage.entryFor(token));
    } catch (e) {
      // Serving on is the best left to do; the next refresh tries to save again.
      this.#report.saveFailed(this.#store.description, (e as Error).message);
    }
  }

  /** Applies token-failure.ts's verdict to the state; returns what callers should see. */
  #onFailure(e: unknown, trigger: RefreshTrigger, grantType: string): TokenshimError {
    const now = this.#clock.now();
    const state = this.#state;
    const verdict = classifyFailure(e, {
      dsn: this.dsn.name,
      grantType,
      livesOnRefreshTokens: this.#plan.refreshes,
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
