/**
 * Where one DSN's (or one DSN user's) tokens come from: the token store and the token endpoint.
 * The manager (token-manager.ts) decides when a token is needed; this decides how it is had:
 *
 * - every fetch runs inside the store's refresh lock and re-reads the store first, so a token
 *   another process (or instance, with Redis) stored meanwhile is believed, not raced;
 * - the lineage (token-lineage.ts) says which refresh token to redeem and what to write back;
 * - a rotated refresh token is saved before the token that came with it is handed over.
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../../clock.js';
import { OPTION } from '../../config/catalogue.js';
import type { DsnConfig, TokenEndpoint } from '../../config/dsn.js';
import { shownUrlOption } from '../../config/masked-url.js';
import { NeedsLoginError, TokenEndpointError } from '../../errors.js';
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
import { requestToken } from './token-request.js';
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

  /** A new token, `held` being the one in hand (if any). Records what it did in `attempt`. */
  fetch(
    trigger: RefreshTrigger,
    held: AccessToken | undefined,
    attempt: FetchAttempt,
  ): Promise<AccessToken> {
    return this.#store.withRefreshLock(this.storeKey, () =>
      this.#fetchLocked(trigger, held, attempt),
    );
  }

  async #fetchLocked(
    trigger: RefreshTrigger,
    held: AccessToken | undefined,
    attempt: FetchAttempt,
  ): Promise<AccessToken> {
    const stored = await this.#store.load(this.storeKey);
    this.#lineage.adoptIfNewer(stored);
    const fromStore = stored ? this.#adoptable(stored) : undefined;
    if (fromStore && fromStore.accessToken !== held?.accessToken) {
      this.#report.fetched(trigger, attempt.grantType, fromStore, { refreshTokenRotated: false });
      return fromStore;
    }

    const grant = this.#nextGrant();
    attempt.grantType = grant.grantType;
    attempt.requested = true;
    const set = await this.#redeem(grant, trigger, held);
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
  ): Promise<TokenSet> {
    try {
      return await this.#request(grant, trigger, held);
    } catch (e) {
      const refusedRefreshToken =
        e instanceof TokenEndpointError && e.terminal && grant.grantType === 'refresh_token';
      if (!refusedRefreshToken) throw e;
      const newer = this.#lineage.adoptIfDifferent(await this.#store.load(this.storeKey));
      if (newer === undefined) throw e;
      this.#report.refreshTokenReloaded();
      return this.#request(refreshTokenGrant(newer), trigger, held);
    }
  }

  #request(
    grant: Grant,
    trigger: RefreshTrigger,
    held: AccessToken | undefined,
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
    return requestToken(grant, context, secrets, (endpoint) => {
      this.#tokenRequests++;
      this.#report.requested(trigger, grant.grantType, endpoint);
    });
  }

  /**
   * Writes what the lineage holds. A failed write leaves the rotated refresh token in memory only
   * (the old one is spent): serving on is the best left to do, and the next refresh saves again.
   */
  async #persist(token: AccessToken): Promise<void> {
    try {
      await this.#store.save(this.storeKey, this.#lineage.entryFor(token));
    } catch (e) {
      this.#report.saveFailed(this.#store.description, (e as Error).message);
    }
  }
}
