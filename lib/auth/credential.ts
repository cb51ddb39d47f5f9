import type { DsnConfig } from '../config/dsn.js';

/**
 * The contract between the token engine (lib/auth) and the proxy (lib/proxy): what to attach to
 * one upstream request, and how to report that the upstream rejected it.
 */
export interface AttachedCredential {
  /** headers to set on the upstream request, replacing any the client sent with the same name */
  readonly headers: readonly (readonly [name: string, value: string])[];
  /** query parameters to set on the upstream URL, replacing any with the same name */
  readonly query: readonly (readonly [name: string, value: string])[];
  /**
   * The access token this credential carries, for compare-and-invalidate; undefined for static
   * credentials, which no refresh can fix.
   */
  readonly accessToken?: string;
  /** the per-user subject this credential was issued for (X-Tokenshim-User) */
  readonly user?: string;
  /** the token_type of an OAuth token (`Bearer`), for POST /_tokenshim/token */
  readonly tokenType?: string;
  /** epoch ms when an OAuth token expires, for POST /_tokenshim/token */
  readonly expiresAt?: number;
}

export interface TokenStatus {
  readonly state:
    'static' | 'none' | 'valid' | 'empty' | 'refreshing' | 'expired' | 'needs-login' | 'failing';
  /** epoch ms; absent for static credentials or before the first token */
  readonly expiresAt?: number;
  readonly refreshedAt?: number;
  /** the last token-endpoint failure, safe to show (no secrets) */
  readonly lastError?: string;
  /**
   * set while a rotated refresh token could not be saved (it lives only in memory): why, and
   * what fixes it. The DSN is not ready meanwhile: no refresh token is redeemed until it is saved.
   */
  readonly unsaved?: string;
  readonly tokenRequests: number;
}

/**
 * What one credential() call asks for. The proxy's Exchange is one itself, so a request costs no
 * options object, and its `signal` is made only when read (a held token answers without it).
 */
export interface CredentialRequest {
  /** the per-user subject (X-Tokenshim-User), for DSNs whose TokenParams use {user} */
  readonly user?: string;
  /** aborts the wait for a token (the client went away); the shared token request goes on */
  readonly signal?: AbortSignal;
}

export interface CredentialProvider {
  readonly dsn: DsnConfig;
  /** true for OAuth DSNs: the client's own Authorization header is removed before forwarding */
  readonly stripsClientAuthorization: boolean;
  /** true when the DSN's TokenParams use {user}: requests must name a user */
  readonly perUser: boolean;
  /**
   * A credential that is valid now (never one known to be expired). Rejects with a
   * TokenshimError (NeedsLoginError, TokenUnavailableError, TokenEndpointError).
   */
  credential(request?: CredentialRequest): Promise<AttachedCredential>;
  /**
   * The upstream rejected `cred` (a status in RefreshOnStatus). Compare-and-invalidate: only the
   * first report of a given token drops it. Returns true when a fresh credential may help.
   */
  invalidate(cred: AttachedCredential): boolean;
  status(): TokenStatus;
  /**
   * Replaces the token now, even a valid one (`tokenshim token --force`, POST
   * /_tokenshim/refresh/<DSN>), and resolves with the new credential. A rotated refresh token
   * is saved before it resolves. Rejects like credential(); for a static credential, with a
   * TokenshimError saying there is nothing to refresh.
   */
  forceRefresh(request?: Pick<CredentialRequest, 'user'>): Promise<AttachedCredential>;
  /**
   * Prefetch=1: get a token now and keep one valid with no traffic. Never throws: failures show
   * in status() (and so in /_tokenshim/ready and /_tokenshim/status).
   */
  prefetch(): void;
  /**
   * A reload replaced the DSN: no token request starts and nothing new is written from now on;
   * requests still in flight keep the credential they hold. close() follows once they are done.
   */
  retire(): void;
  close(): Promise<void>;
}
