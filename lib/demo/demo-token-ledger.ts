import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';

/** The demo's token lifetime: short enough to watch tokenshim refresh. */
export const DEMO_TOKEN_SECONDS = 30;

export interface IssuedTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresInSeconds: number;
  /** 1 for the first access token, then one more per refresh */
  readonly number: number;
}

export interface LiveToken {
  readonly number: number;
  readonly expiresInSeconds: number;
}

/**
 * What the demo OAuth server knows: one client, the one refresh token that is valid now (each
 * refresh replaces it, as servers with rotating refresh tokens do), and the access tokens it
 * issued with their expiry.
 */
export class DemoTokenLedger {
  readonly clientId = 'tokenshim-demo';
  readonly clientSecret = `demo-secret-${randomBytes(9).toString('base64url')}`;
  readonly #clock: Clock;
  readonly #lifetimeMs: number;
  /** the refresh token to put in the demo's config; spent by the first refresh */
  readonly initialRefreshToken = `demo-refresh-${randomBytes(12).toString('base64url')}`;
  #refreshToken = this.initialRefreshToken;
  readonly #access = new Map<string, { number: number; expiresAt: number }>();
  #issued = 0;

  constructor(opts: { clock?: Clock; tokenSeconds?: number } = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#lifetimeMs = (opts.tokenSeconds ?? DEMO_TOKEN_SECONDS) * 1000;
  }

  get lifetimeSeconds(): number {
    return this.#lifetimeMs / 1000;
  }

  /** how many access tokens were issued */
  get issued(): number {
    return this.#issued;
  }

  clientMatches(id: string | undefined, secret: string | undefined): boolean {
    return id === this.clientId && secret === this.clientSecret;
  }

  /** Redeems the current refresh token: new access token, new refresh token; the old one is spent. */
  refresh(refreshToken: string | undefined): IssuedTokens | undefined {
    if (refreshToken === undefined || refreshToken !== this.#refreshToken) return undefined;
    const now = this.#clock.now();
    for (const [token, t] of this.#access) if (t.expiresAt <= now) this.#access.delete(token);
    this.#issued++;
    const accessToken = `demo-access-${this.#issued}-${randomBytes(12).toString('base64url')}`;
    this.#access.set(accessToken, { number: this.#issued, expiresAt: now + this.#lifetimeMs });
    this.#refreshToken = `demo-refresh-${randomBytes(12).toString('base64url')}`;
    return {
      accessToken,
      refreshToken: this.#refreshToken,
      expiresInSeconds: this.lifetimeSeconds,
      number: this.#issued,
    };
  }

  /** The access token, if it was issued here and has not expired. */
  live(accessToken: string | undefined): LiveToken | undefined {
    const t = accessToken === undefined ? undefined : this.#access.get(accessToken);
    const left = t === undefined ? 0 : t.expiresAt - this.#clock.now();
    if (!t || left <= 0) return undefined;
    return { number: t.number, expiresInSeconds: Math.ceil(left / 1000) };
  }
}
