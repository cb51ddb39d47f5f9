import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { systemClock, type Clock, type ClockTimer } from '../clock.js';
import type { DsnConfig } from '../config/dsn.js';
import {
  NeedsLoginError,
  TokenEndpointError,
  TokenshimError,
  TokenUnavailableError,
} from '../errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { TokenStatus } from './credential.js';
import { backoffDelayMs } from './backoff.js';
import { clientAuthFor, type ClientAuth, type TokenRequestParts } from './client-auth.js';
import { grantPlanFor, type GrantPlan } from './grants/grant-plan.js';
import type { Grant } from './grants/grant.js';
import { refreshTokenGrant } from './grants/refresh-token.js';
import type { StoredTokens, TokenStore } from './stores/token-store.js';
import type { TokenEvent, TokenEventListener, TokenFailureReason } from './token-events.js';
import { createTokenDispatcher } from './token-dispatcher.js';
import {
  buildTokenRequest,
  describeEndpoint,
  parseTokenResponse,
  sendTokenRequest,
  type TokenSet,
} from './token-endpoint.js';

/** An access token tokenshim may attach right now. */
export interface AccessToken {
  readonly accessToken: string;
  /** `Bearer` unless the server said otherwise */
  readonly tokenType: string;
  /** epoch ms */
  readonly expiresAt: number;
  /** epoch ms: when the request that produced it was sent */
  readonly obtainedAt: number;
}

export interface TokenManagerOptions {
  readonly dsn: DsnConfig;
  readonly store: TokenStore;
  readonly clock?: Clock;
  /** HTTP client for the token endpoint; default: an undici Agent with the DSN's TLS options */
  readonly dispatcher?: Dispatcher;
  readonly logger?: Logger;
  readonly onEvent?: TokenEventListener;
  /** the per-user subject substituted for `{user}` in TokenParams; one manager per user */
  readonly user?: string;
  /** for jitter; tests pin it */
  readonly random?: () => number;
}

/**
 * A token whose remaining life is below this is not handed out: it would expire on its way
 * upstream. Capped at a tenth of the lifetime so very short-lived tokens stay usable.
 */
const EXPIRY_SKEW_MS = 5_000;
const WHOLE_SECOND_MS = 1_000;
/**
 * Refresh-ahead starts this much before a token stops being handed out, so the new token is back
 * before then and no request waits for it: LEAD_FETCHES times the recent token fetch time (lock,
 * request, save), at least MIN_LEAD_MS, at most a tenth of the token's lifetime; DEFAULT_LEAD_MS
 * before any fetch was timed (a token taken from the store at startup).
 *
 * - three fetches: on a loaded machine one fetch can take a few times the one before it (GC, a
 *   busy event loop, a reconnect); the recent time is the longest fetch, halved at each fetch
 *   since, so one slow fetch keeps the lead up for a few renewals instead of one;
 * - 20 ms at least: timers fire late on a busy event loop, and a fetch timed at 1 ms says little;
 * - 250 ms untimed: a token endpoint across the internet, TLS handshake included;
 * - a tenth of the lifetime at most: each ms of lead shortens every token's useful life, and a
 *   2 s token is handed out for one second only (whole-second exp), so 200 ms of lead already
 *   costs a quarter more token requests; an endpoint slower than that cannot be hidden cheaply.
 */
const LEAD_FETCHES = 3;
const MIN_LEAD_MS = 20;
const DEFAULT_LEAD_MS = 250;
/** how often a DSN marked "needs login" looks at the store for a refresh token from `tokenshim login` */
const NEEDS_LOGIN_RECHECK_MS = 2_000;
/** rejected tokens remembered so a stale copy in the store is not taken back */
const INVALIDATED_REMEMBERED = 8;

interface Failure {
  readonly error: TokenshimError;
  readonly attempts: number;
  readonly nextAttemptAt: number;
}

/**
 * Holds one DSN's (or one DSN user's) access token: gets it, refreshes it ahead of expiry, and
 * persists rotated refresh tokens before using what came with them.
 *
 * - single flight: however many callers wait, one token request is in flight;
 * - expiry counts from when the request was sent; a token is refreshed in the background once
 *   its remaining life drops below min(RefreshMargin, lifetime / 10) (about one token request per
 *   lifetime), early enough for the fetch to be done before the token stops being handed out, and
 *   callers keep the valid one meanwhile; expiry is also checked on every call, because timers
 *   stall while a laptop sleeps;
 * - a token known to be expired is never handed out;
 * - network errors, 5xx and 429 back off exponentially (Retry-After honoured) while the valid
 *   token keeps being served; invalid_grant, invalid_client and unauthorized_client mark the DSN
 *   "needs login" until a login stores a new refresh token;
 * - every refresh runs inside the store's refresh lock and re-reads the store first, so another
 *   process (or instance, with Redis) that refreshed already is believed, not raced.
 */
export class TokenManager {
  readonly dsn: DsnConfig;
  readonly user: string | undefined;
  /** the token store key: TokenStoreKey, plus the user for per-user tokens */
  readonly storeKey: string;
  readonly #store: TokenStore;
  readonly #clock: Clock;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #log: Logger;
  readonly #onEvent: TokenEventListener | undefined;
  readonly #random: () => number;
  readonly #plan: GrantPlan;
  readonly #clientAuth: ClientAuth;
  readonly #configRefreshTokenHash: string | undefined;
  readonly #configOAuthCodeHash: string | undefined;
  readonly #fingerprint: string;

  #init: Promise<void> | undefined;
  #initDone = false;
  #current: AccessToken | undefined;
  #refreshToken: string | undefined;
  /**
   * when #refreshToken was obtained (epoch ms; 0 for the config's): a stored one replaces it only
   * if it is at least as new, so a stale file left by a failed save cannot bring back a spent token
   */
  #refreshTokenSince = 0;
  #oauthCodeUsed = false;
  #inflight: Promise<AccessToken> | undefined;
  #failure: Failure | undefined;
  #needsLogin:
    { error: NeedsLoginError; refreshToken: string | undefined; checkedAt: number } | undefined;
  #timer: ClockTimer | undefined;
  #invalidated: string[] = [];
  #tokenRequests = 0;
  #refreshedAt: number | undefined;
  /**
   * how long a token fetch takes, lock and save included (ms): the longest recent one, halved at
   * each fetch since; the refresh-ahead lead is a multiple of it
   */
  #fetchMs: number | undefined;
  #closed = false;

  constructor(opts: TokenManagerOptions) {
    this.dsn = opts.dsn;
    this.user = opts.user;
    this.storeKey =
      opts.user === undefined
        ? opts.dsn.tokenStoreKey
        : `${opts.dsn.tokenStoreKey}#user=${opts.user}`;
    this.#store = opts.store;
    this.#clock = opts.clock ?? systemClock;
    this.#ownsDispatcher = opts.dispatcher === undefined;
    this.#dispatcher = opts.dispatcher ?? createTokenDispatcher(opts.dsn);
    this.#log = (opts.logger ?? silentLogger).child({
      component: 'token-manager',
      dsn: opts.dsn.name,
      ...(opts.user === undefined ? {} : { user: opts.user }),
    });
    this.#onEvent = opts.onEvent;
    this.#random = opts.random ?? Math.random;
    this.#plan = grantPlanFor(opts.dsn);
    this.#clientAuth = clientAuthFor(opts.dsn);
    this.#configRefreshTokenHash = opts.dsn.refreshToken
      ? sha256(opts.dsn.refreshToken)
      : undefined;
    this.#configOAuthCodeHash = opts.dsn.oauthCode ? sha256(opts.dsn.oauthCode) : undefined;
    this.#fingerprint = sha256(
      JSON.stringify([
        opts.dsn.tokenEndpoint?.method,
        opts.dsn.tokenEndpoint?.url.href,
        opts.dsn.clientId,
        this.#plan.grantType,
        opts.dsn.scope,
        opts.dsn.tokenParams,
        opts.dsn.tokenRequestFormat,
        opts.user,
      ]),
    );
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
  usableToken(): AccessToken | undefined {
    if (!this.#initDone || this.#needsLogin) return undefined;
    return this.#usableNow(this.#clock.now());
  }

  #usableNow(now: number): AccessToken | undefined {
    const current = this.#current;
    if (!current || !this.#usable(current, now)) return undefined;
    if (
      now >= refreshAt(current, this.#marginMs, this.#leadMs) &&
      !this.#inflight &&
      !this.#inBackoff(now) &&
      !this.#closed
    ) {
      void this.#startFetch(true);
    }
    return current;
  }

  async #getToken(): Promise<AccessToken> {
    await this.#ensureInit();
    if (this.#needsLogin) await this.#recheckNeedsLogin();

    const now = this.#clock.now();
    const current = this.#usableNow(now);
    if (current) return current;
    if (this.#inflight) return this.#inflight;
    if (this.#failure && this.#inBackoff(now)) throw this.#failure.error;
    return this.#startFetch(false);
  }

  /**
   * The upstream rejected `accessToken`. Compare-and-invalidate: only the report that names the
   * current token drops it, so a hundred parallel 401s cause one refresh. True when a fresh token
   * may help (false once the DSN needs a login).
   */
  invalidate(accessToken: string): boolean {
    if (!this.#invalidated.includes(accessToken)) {
      this.#invalidated.push(accessToken);
      if (this.#invalidated.length > INVALIDATED_REMEMBERED) this.#invalidated.shift();
    }
    if (this.#current?.accessToken === accessToken) {
      this.#log.info(
        { event: 'token_invalidated' },
        'upstream rejected the access token; the next request fetches a new one',
      );
      this.#current = undefined;
      this.#cancelTimer();
    }
    return this.#needsLogin === undefined;
  }

  status(): TokenStatus {
    const now = this.#clock.now();
    const base = {
      tokenRequests: this.#tokenRequests,
      ...(this.#current ? { expiresAt: this.#current.expiresAt } : {}),
      ...(this.#refreshedAt === undefined ? {} : { refreshedAt: this.#refreshedAt }),
      ...(this.#needsLogin
        ? { lastError: this.#needsLogin.error.message }
        : this.#failure
          ? { lastError: this.#failure.error.message }
          : {}),
    };
    if (this.#needsLogin) return { state: 'needs-login', ...base };
    if (this.#inflight) return { state: 'refreshing', ...base };
    if (this.#current && this.#usable(this.#current, now)) return { state: 'valid', ...base };
    if (this.#failure) return { state: 'failing', ...base };
    if (this.#current) return { state: 'expired', ...base };
    return { state: 'empty', ...base };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelTimer();
    await this.#inflight?.catch(() => undefined);
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  get #marginMs(): number {
    return this.dsn.refreshMarginSeconds * 1000;
  }

  get #leadMs(): number {
    return this.#fetchMs === undefined
      ? DEFAULT_LEAD_MS
      : Math.max(MIN_LEAD_MS, LEAD_FETCHES * this.#fetchMs);
  }

  #usable(token: AccessToken, now: number): boolean {
    return now < usableUntil(token);
  }

  #inBackoff(now: number): boolean {
    return this.#failure !== undefined && now < this.#failure.nextAttemptAt;
  }

  #ensureInit(): Promise<void> {
    this.#init ??= this.#loadFromStore().then(
      () => {
        this.#initDone = true;
      },
      (e: unknown) => {
        this.#init = undefined;
        throw e;
      },
    );
    return this.#init;
  }

  /** At start: a stored refresh token wins over the config's unless the config's changed since. */
  async #loadFromStore(): Promise<void> {
    const stored = await this.#store.load(this.storeKey);
    this.#refreshToken = this.dsn.refreshToken;
    this.#oauthCodeUsed =
      this.#configOAuthCodeHash !== undefined &&
      stored?.configOAuthCodeHash === this.#configOAuthCodeHash;
    if (!stored) return;
    const sameLineage = stored.configRefreshTokenHash === this.#configRefreshTokenHash;
    if (stored.refreshToken && sameLineage) {
      this.#refreshToken = stored.refreshToken;
      this.#refreshTokenSince = stored.updatedAt;
    }
    const adopted = sameLineage ? this.#storedAccessToken(stored) : undefined;
    if (adopted) {
      this.#current = adopted;
      this.#scheduleRefresh(adopted);
    }
    this.#log.debug(
      {
        event: 'store_loaded',
        store: this.#store.description,
        storedRefreshToken: stored.refreshToken !== undefined && sameLineage,
      },
      'token store read',
    );
  }

  /** A stored access token worth using: same request, not rejected, not yet due for refresh. */
  #storedAccessToken(stored: StoredTokens): AccessToken | undefined {
    if (
      !stored.accessToken ||
      stored.expiresAt === undefined ||
      stored.configFingerprint !== this.#fingerprint
    )
      return undefined;
    if (this.#invalidated.includes(stored.accessToken)) return undefined;
    const token: AccessToken = {
      accessToken: stored.accessToken,
      tokenType: stored.tokenType ?? 'Bearer',
      expiresAt: stored.expiresAt,
      obtainedAt: Math.min(stored.updatedAt, stored.expiresAt),
    };
    const now = this.#clock.now();
    return this.#usable(token, now) && now < refreshAt(token, this.#marginMs, this.#leadMs)
      ? token
      : undefined;
  }

  #startFetch(ahead: boolean): Promise<AccessToken> {
    const fetch: Promise<AccessToken> = this.#fetchUnderLock(ahead).finally(() => {
      if (this.#inflight === fetch) this.#inflight = undefined;
    });
    this.#inflight = fetch;
    // a background refresh has no caller to report to; its outcome is in status() and the log
    if (ahead) fetch.catch(() => undefined);
    return fetch;
  }

  async #fetchUnderLock(ahead: boolean): Promise<AccessToken> {
    let grantType = this.#plan.grantType;
    const startedAt = this.#clock.now();
    let requested = false;
    try {
      const token = await this.#store.withRefreshLock(this.storeKey, async () => {
        // another process or instance may have refreshed while this one waited for the lock
        const stored = await this.#store.load(this.storeKey);
        if (
          stored?.refreshToken &&
          stored.configRefreshTokenHash === this.#configRefreshTokenHash &&
          stored.updatedAt >= this.#refreshTokenSince
        ) {
          this.#refreshToken = stored.refreshToken;
          this.#refreshTokenSince = stored.updatedAt;
        }
        const fromStore = stored ? this.#storedAccessToken(stored) : undefined;
        if (fromStore && fromStore.accessToken !== this.#current?.accessToken) {
          this.#emit({
            type: 'token_fetched',
            ahead,
            grantType,
            lifetimeSeconds: lifetimeSeconds(fromStore),
            refreshTokenRotated: false,
            fromStore: true,
          });
          return fromStore;
        }

        const grant = this.#nextGrant();
        grantType = grant.grantType;
        requested = true;
        let set: TokenSet;
        try {
          set = await this.#request(grant, ahead);
        } catch (e) {
          const retry = await this.#newerRefreshTokenAfter(e, grant);
          if (!retry) throw e;
          set = await this.#request(retry, ahead);
        }
        const rotated = set.refreshToken !== undefined && set.refreshToken !== this.#refreshToken;
        if (set.refreshToken !== undefined) {
          this.#refreshToken = set.refreshToken;
          this.#refreshTokenSince = set.obtainedAt;
        }
        if (grant === this.#plan.initial && this.#plan.initialOnce) this.#oauthCodeUsed = true;
        const token: AccessToken = {
          accessToken: set.accessToken,
          tokenType: set.tokenType,
          expiresAt: set.expiresAt,
          obtainedAt: set.obtainedAt,
        };
        // the rotated refresh token is on disk before anything uses what came with it
        await this.#persist(token);
        this.#emit({
          type: 'token_fetched',
          ahead,
          grantType,
          lifetimeSeconds: lifetimeSeconds(token),
          refreshTokenRotated: rotated,
          fromStore: false,
        });
        this.#log.info(
          {
            event: 'token_fetched',
            grantType,
            ahead,
            expiresInSeconds: lifetimeSeconds(token),
            lifetimeFrom: set.lifetimeSource,
            refreshTokenRotated: rotated,
          },
          'access token obtained',
        );
        return token;
      });
      this.#current = token;
      this.#failure = undefined;
      this.#refreshedAt = this.#clock.now();
      // a token another instance had stored came without a request: it says nothing of the endpoint
      if (requested) {
        this.#fetchMs = Math.max(this.#refreshedAt - startedAt, (this.#fetchMs ?? 0) / 2);
      }
      this.#scheduleRefresh(token);
      return token;
    } catch (e) {
      throw this.#onFailure(e, ahead, grantType);
    }
  }

  #nextGrant(): Grant {
    if (this.#plan.refreshes && this.#refreshToken) return refreshTokenGrant(this.#refreshToken);
    if (this.#plan.initial && !(this.#plan.initialOnce && this.#oauthCodeUsed))
      return this.#plan.initial;
    const why =
      this.#plan.initial === undefined
        ? 'no refresh token: RefreshToken is not set and none is stored'
        : 'the OAuthCode was exchanged already (codes are single-use) and no refresh token came with it';
    throw new NeedsLoginError(this.dsn.name, why);
  }

  /**
   * After a terminal refusal of a refresh token, the store may hold a newer one (another instance
   * won the race, or `tokenshim login` just ran): one more try with it before giving up.
   */
  async #newerRefreshTokenAfter(e: unknown, grant: Grant): Promise<Grant | undefined> {
    if (!(e instanceof TokenEndpointError) || !e.terminal || grant.grantType !== 'refresh_token')
      return undefined;
    const used = this.#refreshToken;
    const stored = await this.#store.load(this.storeKey);
    if (!stored?.refreshToken || stored.refreshToken === used) return undefined;
    this.#log.info(
      { event: 'refresh_token_reloaded' },
      'refresh token refused; the store has a newer one, retrying with it',
    );
    this.#refreshToken = stored.refreshToken;
    this.#refreshTokenSince = stored.updatedAt;
    return refreshTokenGrant(stored.refreshToken);
  }

  async #request(grant: Grant, ahead: boolean): Promise<TokenSet> {
    const endpoint = this.dsn.tokenEndpoint;
    if (!endpoint) {
      throw new TokenshimError(
        'TOKENSHIM_CONFIG',
        `DSN "${this.dsn.name}": AuthenticationMethod=${this.dsn.method.code} needs TokenURI (the OAuth token endpoint).`,
        { dsn: this.dsn.name },
      );
    }
    const params = await grant.params({ dsn: this.dsn, clock: this.#clock });
    const request = buildTokenRequest({
      endpoint,
      format: this.dsn.tokenRequestFormat,
      grant: params,
      scope: this.dsn.scope,
      tokenParams: this.dsn.tokenParams,
      clientAuth: this.#clientAuth,
      user: this.user,
    });
    const sentAt = this.#clock.now();
    this.#tokenRequests++;
    this.#emit({ type: 'token_requested', ahead, grantType: grant.grantType });
    this.#log.debug(
      {
        event: 'token_requested',
        grantType: grant.grantType,
        ahead,
        endpoint: describeEndpoint(endpoint),
      },
      'token request sent',
    );
    const raw = await sendTokenRequest(request, {
      dispatcher: this.#dispatcher,
      dsn: this.dsn.name,
      headersTimeoutMs: this.dsn.headersTimeoutSeconds * 1000,
      bodyTimeoutMs: this.dsn.headersTimeoutSeconds * 1000,
    });
    return parseTokenResponse(raw, {
      dsn: this.dsn.name,
      endpoint,
      sentAt,
      defaultLifetimeSeconds: this.dsn.defaultTokenLifetimeSeconds,
      secrets: this.#secrets(),
    });
  }

  async #persist(token: AccessToken): Promise<void> {
    const entry: StoredTokens = {
      ...(this.#refreshToken === undefined ? {} : { refreshToken: this.#refreshToken }),
      ...(this.#configRefreshTokenHash === undefined
        ? {}
        : { configRefreshTokenHash: this.#configRefreshTokenHash }),
      ...(this.#oauthCodeUsed && this.#configOAuthCodeHash
        ? { configOAuthCodeHash: this.#configOAuthCodeHash }
        : {}),
      configFingerprint: this.#fingerprint,
      accessToken: token.accessToken,
      tokenType: token.tokenType,
      expiresAt: token.expiresAt,
      updatedAt: token.obtainedAt,
    };
    try {
      await this.#store.save(this.storeKey, entry);
    } catch (e) {
      // The old refresh token is spent: the new one now lives only in memory. Serving on is the
      // best left to do; the next refresh tries to save again.
      this.#log.error(
        {
          event: 'token_store_failed',
          store: this.#store.description,
          error: (e as Error).message,
        },
        'could not save the rotated refresh token; it is kept in memory only until the next successful save',
      );
    }
  }

  /** Classifies a failure, updates state and returns what callers should see. */
  #onFailure(e: unknown, ahead: boolean, grantType: string): unknown {
    const now = this.#clock.now();
    if (e instanceof NeedsLoginError || (e instanceof TokenEndpointError && e.terminal)) {
      const error =
        e instanceof NeedsLoginError
          ? e
          : new NeedsLoginError(
              this.dsn.name,
              refusal(e),
              e,
              adviceWithoutLogin(this.dsn, grantType, e),
            );
      this.#needsLogin = { error, refreshToken: this.#refreshToken, checkedAt: now };
      this.#current = undefined;
      this.#failure = undefined;
      this.#cancelTimer();
      this.#emit({
        type: 'token_fetch_failed',
        ahead,
        grantType,
        reason: e instanceof NeedsLoginError ? 'config' : 'oauth_error',
        ...httpStatusOf(e),
        terminal: true,
      });
      this.#log.error(
        { event: 'needs_login', grantType, reason: error.message },
        'the DSN needs a new login',
      );
      return error;
    }
    const reason = failureReason(e);
    const endpointError =
      e instanceof TokenshimError
        ? e
        : new TokenshimError('TOKENSHIM_TOKEN_ENDPOINT', String(e), {
            dsn: this.dsn.name,
            cause: e,
          });
    const attempts = (this.#failure?.attempts ?? 0) + 1;
    const delay = backoffDelayMs(
      attempts,
      this.#random,
      e instanceof TokenEndpointError ? e.retryAfterMs : undefined,
    );
    const callerError =
      reason === 'oauth_error' || reason === 'config' || reason === 'store'
        ? endpointError
        : new TokenUnavailableError(
            this.dsn.name,
            withoutDsnPrefix(endpointError.message, this.dsn.name),
            e,
          );
    this.#failure = { error: callerError, attempts, nextAttemptAt: now + delay };
    const stillValid = this.#current !== undefined && this.#usable(this.#current, now);
    if (stillValid && !this.#closed) this.#schedule(now + delay);
    this.#emit({
      type: 'token_fetch_failed',
      ahead,
      grantType,
      reason,
      ...httpStatusOf(e),
      terminal: false,
      retryInMs: delay,
    });
    this.#log.warn(
      {
        event: 'token_fetch_failed',
        grantType,
        ahead,
        reason,
        attempts,
        retryInMs: delay,
        servingValidToken: stillValid,
        error: endpointError.message,
      },
      'token request failed',
    );
    return callerError;
  }

  /** A DSN that needs a login comes back when a new refresh token appears in the store. */
  async #recheckNeedsLogin(): Promise<void> {
    const state = this.#needsLogin;
    if (!state) return;
    const now = this.#clock.now();
    if (now - state.checkedAt >= NEEDS_LOGIN_RECHECK_MS) {
      state.checkedAt = now;
      const stored = await this.#store.load(this.storeKey).catch(() => undefined);
      if (stored?.refreshToken && stored.refreshToken !== state.refreshToken) {
        this.#log.info(
          { event: 'login_detected' },
          'a new refresh token is in the store; leaving "needs login"',
        );
        this.#needsLogin = undefined;
        this.#refreshToken = stored.refreshToken;
        this.#refreshTokenSince = stored.updatedAt;
        return;
      }
    }
    throw state.error;
  }

  #scheduleRefresh(token: AccessToken): void {
    if (!this.#closed) this.#schedule(refreshAt(token, this.#marginMs, this.#leadMs));
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
    if (this.#closed || this.#inflight || this.#needsLogin) return;
    const now = this.#clock.now();
    const current = this.#current;
    // with no valid token there is no one to refresh ahead for: the next caller fetches on demand
    if (!current || !this.#usable(current, now) || this.#inBackoff(now)) return;
    if (now >= refreshAt(current, this.#marginMs, this.#leadMs)) void this.#startFetch(true);
    else this.#scheduleRefresh(current);
  }

  #cancelTimer(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #emit(e: EventWithoutSubject): void {
    if (!this.#onEvent) return;
    try {
      this.#onEvent({
        dsn: this.dsn.name,
        ...(this.user === undefined ? {} : { user: this.user }),
        ...e,
      } as TokenEvent);
    } catch (err) {
      this.#log.warn({ error: (err as Error).message }, 'token event listener threw');
    }
  }

  #secrets(): string[] {
    // the Basic credentials as sent, in case the server echoes the Authorization header
    const probe: TokenRequestParts = { headers: {}, query: [], body: new Map() };
    this.#clientAuth(probe);
    const basic = probe.headers['authorization']?.replace(/^Basic /, '');
    return [
      basic,
      this.dsn.clientSecret,
      this.dsn.refreshToken,
      this.#refreshToken,
      this.dsn.password,
      this.dsn.accessToken,
      this.dsn.securityToken,
      this.dsn.oauthCode,
      this.#current?.accessToken,
    ].filter((s): s is string => s !== undefined);
  }
}

type EventWithoutSubject = TokenEvent extends infer E
  ? E extends TokenEvent
    ? Omit<E, 'dsn' | 'user'>
    : never
  : never;

/**
 * The last moment a token is handed out. Two allowances: EXPIRY_SKEW_MS (a tenth of the lifetime
 * at most) for the trip upstream, and a second (half the lifetime at most) because lifetimes are
 * whole seconds on the server's clock, which may have truncated the issue time (oidc-provider
 * stamps exp = floor(now) + ttl): a token can die up to a second before sentAt + expires_in.
 */
export function usableUntil(token: AccessToken): number {
  const lifetime = token.expiresAt - token.obtainedAt;
  const allowance = Math.max(
    Math.min(EXPIRY_SKEW_MS, lifetime / 10),
    Math.min(WHOLE_SECOND_MS, lifetime / 2),
  );
  return token.expiresAt - allowance;
}

/**
 * When to refresh ahead: once the remaining life is below min(RefreshMargin, lifetime / 10), and
 * at the latest `leadMs` (a tenth of the lifetime at most) before the token stops being handed out,
 * so that the fetch is done by then and no request waits for it. RefreshMargin=0 turns
 * refresh-ahead off: on demand only.
 *
 * A tenth, not half: a token is renewed once, late in its life (about one token request per
 * lifetime, where half would make two), and the tenth left is still time for backed-off retries
 * while the endpoint fails. With whole-second exp a 2 s token is handed out for its first second
 * only (see usableUntil), so it is renewed about once a second whatever the margin: any token
 * obtained before the old one's exp E expires by E + 1 s at the latest.
 */
export function refreshAt(token: AccessToken, marginMs: number, leadMs: number): number {
  const lifetime = token.expiresAt - token.obtainedAt;
  const byMargin = token.expiresAt - Math.min(marginMs, lifetime / 10);
  if (marginMs <= 0) return byMargin;
  return Math.min(byMargin, usableUntil(token) - Math.max(1, Math.min(leadMs, lifetime / 10)));
}

function lifetimeSeconds(token: AccessToken): number {
  return Math.round((token.expiresAt - token.obtainedAt) / 1000);
}

/** What to check besides logging in again, for refusals a login does not cure. */
const REFUSAL_HINTS: Readonly<Record<string, string>> = {
  invalid_client: 'check ClientID, ClientSecret and ClientCredentialsMode',
  unauthorized_client: 'check AuthenticationMethod and GrantType, and the client at the provider',
  incorrect_client_credentials: 'check ClientID and ClientSecret',
};

/**
 * What fixes a terminal refusal when a login cannot: only a refresh-token or authorization-code
 * DSN refused with invalid_grant is cured by `tokenshim login`.
 */
function adviceWithoutLogin(
  dsn: DsnConfig,
  grantType: string,
  e: TokenEndpointError,
): string | undefined {
  // Atlassian answers a spent refresh token with unauthorized_client, so for refresh-token DSNs
  // only invalid_client (the client itself refused) rules a login out.
  const refreshes = grantType === 'refresh_token' || grantType === 'authorization_code';
  if (refreshes && e.error !== 'invalid_client') return undefined;
  const reload = 'then reload tokenshim (SIGHUP or POST /_tokenshim/reload)';
  if (e.error === 'invalid_client' || e.error === 'unauthorized_client') {
    return `Check ClientID and ClientSecret in [${dsn.name}], and that the client may use the ${grantType} grant, ${reload}.`;
  }
  if (grantType === 'password') return `Check User and Password in [${dsn.name}], ${reload}.`;
  if (grantType.endsWith(':jwt-bearer')) {
    return `Check ClaimsIssuer, ClaimsSubject and JWTPrivateKeyFile in [${dsn.name}], ${reload}.`;
  }
  return `Check the client and grant options in [${dsn.name}] against the provider's documentation, ${reload}.`;
}

/** `invalid_client: client authentication failed; check ClientID, ...` (server's words first) */
function refusal(e: TokenEndpointError): string | undefined {
  const said = e.errorDescription ? `${e.error}: ${e.errorDescription}` : e.error;
  const hint = e.error === undefined ? undefined : REFUSAL_HINTS[e.error];
  return hint === undefined ? said : `${said}; ${hint}`;
}

function failureReason(e: unknown): TokenFailureReason {
  if (e instanceof TokenshimError && /^TOKENSHIM_(TOKEN_STORE|REFRESH_LOCK)/.test(e.code))
    return 'store';
  if (!(e instanceof TokenEndpointError)) return e instanceof TokenshimError ? 'config' : 'network';
  if (e.httpStatus === undefined) return 'network';
  if (e.httpStatus === 429) return 'status_429';
  if (e.httpStatus >= 500) return 'status_5xx';
  if (e.error !== undefined) return 'oauth_error';
  return 'bad_response';
}

function httpStatusOf(e: unknown): { httpStatus?: number } {
  return e instanceof TokenEndpointError && e.httpStatus !== undefined
    ? { httpStatus: e.httpStatus }
    : {};
}

function withoutDsnPrefix(message: string, dsn: string): string {
  const prefix = `DSN "${dsn}": `;
  const rest = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  return rest.replace(/\.$/, '');
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
