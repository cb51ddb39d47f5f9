import type { Dispatcher } from 'undici';
import type { CredentialProvider } from '../auth/credential.js';
import type { DsnConfig } from '../config/dsn.js';
import type { RequestActivity } from './request-activity.js';

/**
 * One DSN as the proxy serves it: its provider (token engine), its upstream dispatcher and the
 * facts the hot path needs precomputed. A reload that changes the DSN makes a new binding; the old
 * one is retired and disposed of when its last in-flight request ends.
 */
export class DsnBinding {
  readonly dsn: DsnConfig;
  readonly provider: CredentialProvider;
  readonly dispatcher: Dispatcher;
  /** `https://api.example.com` (URL#origin) */
  readonly upstreamOrigin: string;
  /** Host header for the upstream: `api.example.com`, `127.0.0.1:9000` */
  readonly upstreamHost: string;
  /** the HostName's path (`/rest/v1`), '' when it has none */
  readonly upstreamBasePath: string;
  /** every origin the DSN's credentials may go to, upstream first (URL#origin spelling) */
  readonly credentialOrigins: readonly string[];
  readonly fingerprint: string;
  #inFlight = 0;
  #active = false;
  #retired = false;
  #disposed: Promise<void> | undefined;
  #onIdle: (() => void) | undefined;
  readonly #activity: RequestActivity | undefined;

  constructor(
    dsn: DsnConfig,
    provider: CredentialProvider,
    dispatcher: Dispatcher,
    activity?: RequestActivity,
  ) {
    this.dsn = dsn;
    this.#activity = activity;
    this.provider = provider;
    this.dispatcher = dispatcher;
    const upstream = dsn.upstream;
    this.upstreamOrigin = upstream?.origin ?? '';
    this.upstreamHost = upstream?.host ?? '';
    const path = upstream?.pathname ?? '';
    this.upstreamBasePath = path === '/' ? '' : path.replace(/\/+$/, '');
    const origins = new Set<string>();
    if (upstream !== undefined) origins.add(upstream.origin);
    for (const o of dsn.credentialOrigins) {
      try {
        origins.add(new URL(o).origin);
      } catch {
        // the config loader validates AllowedHosts; an entry it let through that is no URL is skipped
      }
    }
    this.credentialOrigins = [...origins];
    this.fingerprint = dsnFingerprint(dsn);
  }

  /** the server is draining: answers should close their connections */
  get draining(): boolean {
    return this.#activity?.draining ?? false;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  enter(): void {
    this.#inFlight++;
    this.#activity?.enter();
  }

  leave(): void {
    this.#inFlight--;
    this.#activity?.leave();
    if (this.#inFlight === 0 && this.#retired) this.#onIdle?.();
  }

  /** Serving from now on: a DSN with Prefetch=1 gets its token without waiting for a request. */
  activate(): void {
    if (this.#active || this.#retired) return;
    this.#active = true;
    if (this.dsn.prefetch) this.provider.prefetch();
  }

  /**
   * Replaced or removed: the provider stops at once (no token request, no store write: a reload
   * may have replaced the refresh token), and it and the dispatcher are closed once no request
   * uses them any more.
   */
  retire(): Promise<void> {
    if (this.#disposed) return this.#disposed;
    this.#retired = true;
    this.provider.retire();
    this.#disposed = new Promise<void>((resolve) => {
      this.#onIdle = resolve;
      if (this.#inFlight === 0) resolve();
    }).then(() => this.#dispose());
    return this.#disposed;
  }

  /** Cuts in-flight requests (the end of a drain that ran out of time). */
  async destroy(): Promise<void> {
    this.#retired = true;
    await this.dispatcher.destroy().catch(() => undefined);
    this.#onIdle?.();
    await this.retire();
  }

  async #dispose(): Promise<void> {
    await Promise.allSettled([this.provider.close(), this.dispatcher.close()]);
  }
}

/**
 * What decides whether a reload changed a DSN: every option except where it was written
 * (`origins`, `source`), so moving a section in the file is not a change.
 */
export function dsnFingerprint(dsn: DsnConfig): string {
  return JSON.stringify(dsn, (key, value: unknown) => {
    if (key === 'origins' || key === 'source') return undefined;
    if (value instanceof URL) return value.href;
    if (value instanceof Map) return [...value.entries()];
    return value;
  });
}
