/**
 * Where one DSN's (or one DSN user's) tokens come from: the token store and the token endpoint.
 * The manager (token-manager.ts) decides when a token is needed; this decides how it is had:
 *
 * - every fetch runs inside the store's refresh lock and re-reads the store first, so a token
 *   another process (or instance, with Redis) stored meanwhile is believed, not raced;
 * - the lineage (token-lineage.ts) says which refresh token to redeem and what to write back;
 * - a rotated refresh token is saved before the token that came with it is handed over; one
 *   that could not be saved is owed: the save is paid before any refresh token is redeemed again;
 * - once retired (a reload replaced the DSN) no token request starts and nothing new is written.
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../../clock.js';
import { OPTION } from '../../config/catalogue.js';
import type { DsnConfig, TokenEndpoint } from '../../config/dsn.js';
import { shownUrlOption } from '../../config/masked-url.js';
import {
  DsnReloadedError,
  NeedsLoginError,
  TokenEndpointError,
  TokenshimError,
  TokenStoreError,
} from '../../errors.js';
import { osError } from '../../os-errors.js';
import { clientAuthFor, type ClientAuth } from '../client-auth.js';
import { grantPlanFor, type GrantPlan } from '../grants/grant-plan.js';
import type { Grant } from '../grants/grant.js';
import { refreshTokenGrant } from '../grants/refresh-token.js';
import type { StoredTokens, TokenStore } from '../stores/token-store.js';
import type { TokenSet } from '../token-endpoint.js';
import { TokenEndpointMethod } from '../token-endpoint-method.js';
import type { RefreshTrigger } from '../token-events.js';
import { accessTokenOf, type AccessToken } from './access-token.js';
import { TokenLineage } from './token-lineage.js';
import type { TokenReporter } from './token-reporter.js';
import { requestToken, type AnswerWait } from './token-request.js';
import { handOutDeadline } from './token-timing.js';

export interface TokenSourceOptions {
  readonly dsn: DsnConfig;
  readonly user: string | undefined;
  readonly store: TokenStore;
  readonly clock: Clock;
  readonly dispatcher: Dispatcher;
  readonly report: TokenReporter;
  /** when the manager would refresh `token` ahead: a stored token due by then is not adopted */
  readonly refreshAt: (token: AccessToken) => number;
  /** GET or POST for TokenURI, shared by the DSN's sources (default: this source's own) */
  readonly endpointMethod?: TokenEndpointMethod;
}

/** What one fetch did, for the manager's failure report and its fetch-time record. */
export interface FetchAttempt {
  /** the grant tried (a DSN that exchanged a code goes on with refresh_token) */
  grantType: string;
  /** a token request was sent (a token another instance stored is taken without one) */
  requested: boolean;
}

export interface FetchOptions extends AnswerWait {
  /**
   * epoch ms: a token stored by someone else is taken instead of making a request only if it was
   * obtained at or after this (a forced refresh wants a token newer than the request to force)
   */
  readonly storedNotBefore?: number;
}

/** A store entry that could not be written, and why. */
interface OwedSave {
  readonly entry: StoredTokens;
  readonly error: TokenshimError;
}

export class TokenSource {
  /** the token store key: TokenStoreKey, plus the user for per-user tokens */
  readonly storeKey: string;
  readonly #dsn: DsnConfig;
  readonly #user: string | undefined;
  readonly #store: TokenStore;
  readonly #clock: Clock;
  readonly #dispatcher: Dispatcher;
  readonly #report: TokenReporter;
  readonly #refreshAt: (token: AccessToken) => number;
  readonly #plan: GrantPlan;
  readonly #clientAuth: ClientAuth;
  readonly #lineage: TokenLineage;
  readonly #endpointMethod: TokenEndpointMethod;
  #tokenRequests = 0;
  #retired = false;
  /** a rotated refresh token that lives only in memory until this is written */
  #owed: OwedSave | undefined;

  constructor(opts: TokenSourceOptions) {
    this.#dsn = opts.dsn;
    this.#user = opts.user;
    this.storeKey =
      opts.user === undefined
        ? opts.dsn.tokenStoreKey
        : `${opts.dsn.tokenStoreKey}#user=${opts.user}`;
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#dispatcher = opts.dispatcher;
    this.#report = opts.report;
    this.#refreshAt = opts.refreshAt;
    this.#plan = grantPlanFor(opts.dsn);
    this.#clientAuth = clientAuthFor(opts.dsn);
    this.#lineage = new TokenLineage(opts.dsn, this.#plan.grantType, opts.user);
    this.#endpointMethod = opts.endpointMethod ?? new TokenEndpointMethod();
  }

  /** the grant_type the DSN is configured for */
  get grantType(): string {
    return this.#plan.grantType;
  }

  /** refresh_token and authorization_code DSNs: a login can give them a new refresh token */
  get livesOnRefreshTokens(): boolean {
    return this.#plan.refreshes;
  }

  /** token requests sent so far */
  get tokenRequests(): number {
    return this.#tokenRequests;
  }

  /** why a rotated refresh token is not saved yet (it lives only in memory), if one is not */
  get unsaved(): TokenshimError | undefined {
    return this.#owed?.error;
  }

  /** A reload replaced the DSN: no token request from now on, and no new store writes. */
  retire(): void {
    this.#retired = true;
  }

  /** At start: reads the store once; returns the stored access token worth adopting, if any. */
  async load(): Promise<AccessToken | undefined> {
    const stored = await this.#store.load(this.storeKey);
    const descends = this.#lineage.start(stored);
    if (!stored) return undefined;
    this.#report.storeLoaded(
      this.#store.description,
      stored.refreshToken !== undefined && descends,
    );
    return descends ? this.#adoptable(stored) : undefined;
  }

  /** Calls `listener` when another writer may have changed the entry; returns the stop function. */
  watch(listener: () => void): (() => void) | undefined {
    return this.#store.watch?.(this.storeKey, listener);
  }

  /**
   * After the store changed under us: a stored access token newer than `held` (a forced refresh
   * by `tokenshim token --force`, another instance's refresh), taken along with its refresh token.
   */
  async newerStored(held: AccessToken | undefined): Promise<AccessToken | undefined> {
    const stored = await this.#store.load(this.storeKey).catch(() => undefined);
    this.#lineage.adoptIfNewer(stored);
    const token = stored ? this.#adoptable(stored) : undefined;
    if (!token || token.accessToken === held?.accessToken) return undefined;
    return held === undefined || token.obtainedAt > held.obtainedAt ? token : undefined;
  }

  /**
   * For a DSN that needs a login: true once the store holds a refresh token other than the one
   * refused (`tokenshim login` ran), which is then the one to redeem. An unreadable store: false.
   */
  async loginStored(): Promise<boolean> {
    const stored = await this.#store.load(this.storeKey).catch(() => undefined);
    if (this.#lineage.adoptIfDifferent(stored) === undefined) return false;
    this.#report.loginDetected();
    return true;
  }

  /** The upstream rejected `accessToken`: a copy of it in the store is never adopted again. */
  invalidate(accessToken: string): void {
    this.#lineage.invalidate(accessToken);
  }

  /**
   * Drops the rejected access tokens from the store entry (its refresh token stays), so a restart
   * does not load one again. In the background, under the refresh lock, so the fetch that follows
   * a rejection reads the entry after it.
   */
  forgetRejected(): void {
    if (this.#retired) return;
    this.#store
      .withRefreshLock(this.storeKey, async () => {
        const entry = this.#lineage.withoutRejected(await this.#store.load(this.storeKey));
        if (entry && !this.#retired) await this.#store.save(this.storeKey, entry);
      })
      .catch((e: unknown) => this.#report.forgetFailed((e as Error).message));
  }

  /**
   * Writes the entry whose save failed, under the refresh lock. True when nothing is owed any
   * more; false while the store still refuses it.
   */
  saveOwed(): Promise<boolean> {
    if (!this.#owed) return Promise.resolve(true);
    return this.#store.withRefreshLock(this.storeKey, () =>
      this.#payOwed().then(
        () => true,
        () => false,
      ),
    );
  }

  /** A new token, `held` being the one in hand (if any). Records what it did in `attempt`. */
  fetch(
    trigger: RefreshTrigger,
    held: AccessToken | undefined,
    attempt: FetchAttempt,
    opts: FetchOptions = {},
  ): Promise<AccessToken> {
    return this.#store.withRefreshLock(this.storeKey, () =>
      this.#fetchLocked(trigger, held, attempt, opts),
    );
  }

  async #fetchLocked(
    trigger: RefreshTrigger,
    held: AccessToken | undefined,
    attempt: FetchAttempt,
    opts: FetchOptions,
  ): Promise<AccessToken> {
    if (this.#retired) throw new DsnReloadedError(this.#dsn.name);
    // a rotated refresh token that is not on disk is never redeemed again: the one that replaced
    // it would be lost too, and the disk would still hold a spent one
    await this.#payOwed();
    const stored = await this.#store.load(this.storeKey);
    this.#lineage.adoptIfNewer(stored);
    const fromStore = stored ? this.#adoptable(stored) : undefined;
    if (
      fromStore &&
      fromStore.accessToken !== held?.accessToken &&
      fromStore.obtainedAt >= (opts.storedNotBefore ?? -Infinity)
    ) {
      this.#report.fetched(trigger, attempt.grantType, fromStore, { refreshTokenRotated: false });
      return fromStore;
    }

    const grant = this.#nextGrant();
    attempt.grantType = grant.grantType;
    attempt.requested = true;
    const set = await this.#redeem(grant, trigger, held, opts);
    const spentOAuthCode = grant === this.#plan.initial && this.#plan.initialOnce;
    const rotated = this.#lineage.received(set, spentOAuthCode);
    const token = accessTokenOf(set);
    // the rotated refresh token is on disk before anything uses what came with it; a fetch that
    // was already under way when the DSN was retired still saves (the server has rotated), and
    // the refresh lock orders it before the first fetch of the DSN that replaced it
    await this.#persist(token, rotated);
    this.#report.fetched(trigger, grant.grantType, token, {
      refreshTokenRotated: rotated,
      lifetimeFrom: set.lifetimeSource,
    });
    return token;
  }

  /** A stored access token worth using: same request, not rejected, not yet due for refresh. */
  #adoptable(stored: StoredTokens): AccessToken | undefined {
    const token = this.#lineage.storedAccessToken(stored);
    if (!token) return undefined;
    const now = this.#clock.now();
    return now < handOutDeadline(token) && now < this.#refreshAt(token) ? token : undefined;
  }

  #nextGrant(): Grant {
    const refreshToken = this.#lineage.refreshToken;
    if (this.#plan.refreshes && refreshToken) return refreshTokenGrant(refreshToken);
    if (this.#plan.initial && !(this.#plan.initialOnce && this.#lineage.oauthCodeUsed))
      return this.#plan.initial;
    const why = this.#lineage.loggedOut
      ? 'it was logged out with tokenshim logout'
      : this.#plan.initial === undefined
        ? 'no refresh token: RefreshToken is not set and none is stored'
        : 'the OAuthCode was exchanged already (codes are single-use) and no refresh token came with it';
    throw new NeedsLoginError(this.#dsn.name, why);
  }

  /**
   * Sends `grant`. After a terminal refusal of a refresh token the store may hold a newer one
   * (another instance won the race, or `tokenshim login` just ran): one more try with it.
   */
  async #redeem(
    grant: Grant,
    trigger: RefreshTrigger,
    held: AccessToken | undefined,
    wait: AnswerWait,
  ): Promise<TokenSet> {
    try {
      return await this.#request(grant, trigger, held, wait);
    } catch (e) {
      const refusedRefreshToken =
        e instanceof TokenEndpointError && e.terminal && grant.grantType === 'refresh_token';
      if (!refusedRefreshToken) throw e;
      const newer = this.#lineage.adoptIfDifferent(await this.#store.load(this.storeKey));
      if (newer === undefined) throw e;
      this.#report.refreshTokenReloaded();
      return this.#request(refreshTokenGrant(newer), trigger, held, wait);
    }
  }

  #request(
    grant: Grant,
    trigger: RefreshTrigger,
    held: AccessToken | undefined,
    wait: AnswerWait,
  ): Promise<TokenSet> {
    const context = {
      dsn: this.#dsn,
      user: this.#user,
      clientAuth: this.#clientAuth,
      clock: this.#clock,
      dispatcher: this.#dispatcher,
      endpointMethod: this.#endpointMethod,
      onSwitchedToPost: (configured: TokenEndpoint, status: number) =>
        this.#report.switchedToPost(
          shownUrlOption(configured.url, this.#dsn.origins.get(OPTION.TokenURI.name)),
          status,
        ),
    };
    const secrets = { refreshToken: this.#lineage.refreshToken, accessToken: held?.accessToken };
    return requestToken(
      grant,
      context,
      secrets,
      (endpoint) => {
        this.#tokenRequests++;
        this.#report.requested(trigger, grant.grantType, endpoint);
      },
      wait,
    );
  }

  /**
   * Writes what the lineage holds. A write that fails after the refresh token rotated leaves the
   * new one in memory only (the old one is spent): it is owed, and paid before the next redemption.
   */
  async #persist(token: AccessToken, rotated: boolean): Promise<void> {
    const entry = this.#lineage.entryFor(token);
    try {
      await this.#store.save(this.storeKey, entry);
      this.#owed = undefined;
    } catch (e) {
      const cause = asStoreError(e, this.#store.description);
      const holdsRotated = rotated || this.#owed !== undefined;
      if (holdsRotated) this.#owed = { entry, error: this.#unsavedError(cause) };
      this.#report.saveFailed(this.#store.description, cause.message, holdsRotated);
    }
  }

  /**
   * Writes the owed entry, if any; throws the reason while the store refuses it. An entry in the
   * store at least as new settles the debt instead: another instance had the rotated token
   * (Redis writes back what it was given once it is reachable again) and has moved the chain on;
   * writing ours over it would put a spent refresh token back.
   */
  async #payOwed(): Promise<void> {
    const owed = this.#owed;
    if (!owed) return;
    try {
      const stored = await this.#store.load(this.storeKey);
      if (stored && stored.updatedAt >= owed.entry.updatedAt) {
        this.#lineage.adoptIfNewer(stored);
        if (this.#owed === owed) this.#owed = undefined;
        this.#report.owedSaved(this.#store.description);
        return;
      }
      await this.#store.save(this.storeKey, owed.entry);
    } catch (e) {
      const error = this.#unsavedError(asStoreError(e, this.#store.description));
      if (this.#owed === owed) this.#owed = { entry: owed.entry, error };
      throw error;
    }
    if (this.#owed === owed) this.#owed = undefined;
    this.#report.owedSaved(this.#store.description);
  }

  /** What callers, /ready and status see while a rotated refresh token is not saved. */
  #unsavedError(cause: TokenshimError): TokenshimError {
    return new TokenshimError(
      cause.code,
      `DSN "${this.#dsn.name}" holds a rotated refresh token that is not saved yet: ` +
        `${withoutDsnPrefix(cause.message, this.#dsn.name)} Until it is saved, tokenshim retries the ` +
        'save every few seconds and redeems no refresh token (the one on disk is spent).',
      { status: 503, dsn: this.#dsn.name, cause, extra: cause.extra },
    );
  }
}

function asStoreError(e: unknown, store: string): TokenshimError {
  if (e instanceof TokenshimError) return e;
  const local = osError(e, { action: `save to the token store ${store}` });
  if (local) return local;
  return new TokenStoreError(
    `The token store ${store} refused the write (${(e as Error).message ?? String(e)}).`,
    { status: 503, cause: e },
  );
}

function withoutDsnPrefix(message: string, dsn: string): string {
  const prefix = `DSN "${dsn}" `;
  return message.startsWith(prefix) ? `it ${message.slice(prefix.length)}` : message;
}
