/**
 * What a token manager tells the outside. Token requests, tokens and failures go out once, as
 * TokenEvents, to the one listener that logs and counts them (the token log and the metrics);
 * the manager's own logger only adds debug detail. The few transitions no event carries (a
 * rejected token, a login noticed, a failed save) are logged here, at info or error.
 */
import type { TokenEndpoint } from '../../config/dsn.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { describeEndpoint, type LifetimeSource } from '../token-endpoint.js';
import type { RefreshTrigger, TokenEvent, TokenEventListener } from '../token-events.js';
import { lifetimeSeconds, type AccessToken } from './access-token.js';
import type { FailureVerdict } from './token-failure.js';

type EventWithoutSubject = TokenEvent extends infer E
  ? E extends TokenEvent
    ? Omit<E, 'dsn' | 'user'>
    : never
  : never;

export class TokenReporter {
  readonly #dsn: string;
  readonly #user: string | undefined;
  readonly #log: Logger;
  readonly #onEvent: TokenEventListener | undefined;

  constructor(opts: {
    dsn: string;
    user: string | undefined;
    logger: Logger | undefined;
    onEvent: TokenEventListener | undefined;
  }) {
    this.#dsn = opts.dsn;
    this.#user = opts.user;
    this.#log = (opts.logger ?? silentLogger).child({
      component: 'token-manager',
      dsn: opts.dsn,
      ...(opts.user === undefined ? {} : { user: opts.user }),
    });
    this.#onEvent = opts.onEvent;
  }

  storeLoaded(store: string, storedRefreshToken: boolean): void {
    this.#log.debug({ event: 'store_loaded', store, storedRefreshToken }, 'token store read');
  }

  requested(trigger: RefreshTrigger, grantType: string, endpoint: TokenEndpoint): void {
    this.#emit({ type: 'token_requested', trigger, grantType });
    this.#log.debug(
      { event: 'token_requested', grantType, trigger, endpoint: describeEndpoint(endpoint) },
      'token request sent',
    );
  }

  /** `lifetimeFrom` for a token response; absent for a token another instance had stored */
  fetched(
    trigger: RefreshTrigger,
    grantType: string,
    token: AccessToken,
    how: { refreshTokenRotated: boolean; lifetimeFrom?: LifetimeSource },
  ): void {
    const fromStore = how.lifetimeFrom === undefined;
    const lifetime = lifetimeSeconds(token);
    const { refreshTokenRotated } = how;
    this.#emit({
      type: 'token_fetched',
      trigger,
      grantType,
      lifetimeSeconds: lifetime,
      refreshTokenRotated,
      fromStore,
    });
    this.#log.debug(
      {
        event: 'token_fetched',
        grantType,
        trigger,
        expiresInSeconds: lifetime,
        ...(fromStore ? { fromStore } : { lifetimeFrom: how.lifetimeFrom }),
        refreshTokenRotated,
      },
      fromStore ? 'access token taken from the token store' : 'access token obtained',
    );
  }

  failed(
    trigger: RefreshTrigger,
    grantType: string,
    verdict: FailureVerdict,
    servingValidToken: boolean,
  ): void {
    const status = verdict.httpStatus === undefined ? {} : { httpStatus: verdict.httpStatus };
    if (verdict.kind === 'needs-login') {
      const error = verdict.error.message;
      this.#emit({
        type: 'token_fetch_failed',
        trigger,
        grantType,
        reason: verdict.reason,
        ...status,
        terminal: true,
        error,
      });
      this.#log.debug(
        { event: 'needs_login', grantType, reason: error },
        'the DSN needs a new login',
      );
      return;
    }
    const error = verdict.detail.message;
    const retryInMs = verdict.delayMs;
    const { reason } = verdict;
    this.#emit({
      type: 'token_fetch_failed',
      trigger,
      grantType,
      reason,
      ...status,
      terminal: false,
      retryInMs,
      error,
    });
    this.#log.debug(
      {
        event: 'token_fetch_failed',
        grantType,
        trigger,
        reason,
        attempts: verdict.attempts,
        retryInMs,
        servingValidToken,
        error,
      },
      'token request failed',
    );
  }

  invalidated(): void {
    this.#log.info(
      { event: 'token_invalidated' },
      'upstream rejected the access token; the next request fetches a new one',
    );
  }

  loginDetected(): void {
    this.#log.info(
      { event: 'login_detected' },
      'a new refresh token is in the store; leaving "needs login"',
    );
  }

  refreshTokenReloaded(): void {
    this.#log.info(
      { event: 'refresh_token_reloaded' },
      'refresh token refused; the store has a newer one, retrying with it',
    );
  }

  /**
   * TokenURI has no `POST ` prefix and the endpoint refused the GET but took the POST: once per
   * DSN (the managers share what was learnt), at warn, since every start repeats the refused GET.
   * `tokenUri` is safe to print (masked, or the reference it came from).
   */
  switchedToPost(tokenUri: string, refusedWith: number): void {
    this.#log.warn(
      { event: 'token_endpoint_wants_post', tokenUri, refusedWith },
      `the token endpoint refused GET (HTTP ${refusedWith}) and took the same request by POST; ` +
        `tokenshim uses POST for this DSN from now on. Write TokenURI=POST ${tokenUri} in the config: ` +
        'until then every start sends one GET first, its parameters in the URL',
    );
  }

  /**
   * A save failed. With `rotated`, the old refresh token is spent and the new one now lives only
   * in memory; without, only the access token went unsaved (a restart asks for a new one).
   */
  saveFailed(store: string, error: string, rotated: boolean): void {
    this.#log.error(
      { event: 'token_store_failed', store, error, refreshTokenUnsaved: rotated },
      rotated
        ? 'could not save the rotated refresh token; it is kept in memory and the save retried until it works'
        : 'could not save the access token to the token store',
    );
  }

  /** A rotated refresh token that had only been in memory is saved at last. */
  owedSaved(store: string): void {
    this.#log.info(
      { event: 'token_store_recovered', store },
      'the rotated refresh token is saved now',
    );
  }

  /** The store entry could not be cleared of a rejected access token (a restart may load it once). */
  forgetFailed(error: string): void {
    this.#log.warn(
      { event: 'token_store_failed', error },
      'could not remove the rejected access token from the token store',
    );
  }

  /** Another process or instance wrote a newer token to the store; it is used from now on. */
  takenFromStore(): void {
    this.#log.info(
      { event: 'token_taken_from_store' },
      'a newer token is in the token store (a forced refresh, another instance); using it',
    );
  }

  /** A rejection inside the rejection interval: the token is kept, the answer passed on. */
  rejectionIgnored(sinceLastMs: number): void {
    this.#log.debug(
      { event: 'rejection_ignored', sinceLastMs },
      'upstream rejected the token again right after a refresh; answer passed through, no new token request',
    );
  }

  /** The token endpoint has not answered in time; its answer is still awaited (and saved) for a while. */
  answerOverdue(waitedMs: number, graceMs: number): void {
    this.#log.warn(
      { event: 'token_answer_overdue', waitedMs, graceMs },
      'the token endpoint has not answered yet; its answer is still read and saved if it comes within the grace time',
    );
  }

  #emit(e: EventWithoutSubject): void {
    if (!this.#onEvent) return;
    try {
      this.#onEvent({
        dsn: this.#dsn,
        ...(this.#user === undefined ? {} : { user: this.#user }),
        ...e,
      } as TokenEvent);
    } catch (err) {
      this.#log.warn({ error: (err as Error).message }, 'token event listener threw');
    }
  }
}
