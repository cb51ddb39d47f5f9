import type { TokenStatus } from '../../auth/credential.js';
import { redactSecrets } from '../../auth/redact-secrets.js';
import type { DsnConfig } from '../../config/dsn.js';
import { secretsOf } from '../../config/secrets.js';
import type { RequestCounts } from '../../metrics/proxy-metrics.js';

/**
 * What /_tokenshim/status shows, as data: the JSON answer, and the one input of the HTML page.
 * Built from configuration, token state and counters only; never from a token or a secret.
 */
export interface StatusView {
  readonly tokenshim: { readonly version: string };
  /** ISO 8601, UTC */
  readonly generatedAt: string;
  readonly dsns: readonly DsnStatusView[];
}

export interface DsnStatusView {
  readonly name: string;
  /** `54 OAuth2-RefreshToken` (and `24 OAuth2 -> 54 OAuth2-RefreshToken` for the legacy method) */
  readonly method: string;
  /** origin and path of HostName, without user info or query */
  readonly upstream: string | null;
  /** where clients point at this DSN through tokenshim */
  readonly gatewayUrl: string | null;
  readonly token: {
    readonly state: TokenStatus['state'];
    /** ISO 8601 */
    readonly expiresAt: string | null;
    /** negative once expired */
    readonly expiresInSeconds: number | null;
    readonly refreshedAt: string | null;
    readonly lastError: string | null;
    /** a rotated refresh token that could not be saved yet: why, and what fixes it */
    readonly unsaved: string | null;
    readonly tokenRequests: number;
  };
  readonly requests: RequestCounts;
}

export interface DsnStatusInput {
  readonly dsn: DsnConfig;
  readonly status: TokenStatus;
  readonly requests: RequestCounts;
  readonly gatewayUrl?: string | undefined;
}

export function buildStatusView(
  inputs: readonly DsnStatusInput[],
  opts: { now: number; version: string },
): StatusView {
  return {
    tokenshim: { version: opts.version },
    generatedAt: new Date(opts.now).toISOString(),
    dsns: inputs.map((input) => dsnView(input, opts.now)),
  };
}

function dsnView(
  { dsn, status, requests, gatewayUrl }: DsnStatusInput,
  now: number,
): DsnStatusView {
  const m = dsn.method;
  const eff = dsn.effectiveMethod;
  return {
    name: dsn.name,
    method: `${m.code} ${m.name}${eff !== m ? ` -> ${eff.code} ${eff.name}` : ''}`,
    upstream: dsn.upstream ? `${dsn.upstream.origin}${dsn.upstream.pathname}` : null,
    gatewayUrl: gatewayUrl ?? null,
    token: {
      state: status.state,
      expiresAt: iso(status.expiresAt),
      expiresInSeconds:
        status.expiresAt === undefined ? null : Math.round((status.expiresAt - now) / 1000),
      refreshedAt: iso(status.refreshedAt),
      // the token engine promises lastError is safe to show; this is the second line of defence
      lastError:
        status.lastError === undefined ? null : redactSecrets(status.lastError, secretsOf(dsn)),
      unsaved: status.unsaved === undefined ? null : redactSecrets(status.unsaved, secretsOf(dsn)),
      tokenRequests: status.tokenRequests,
    },
    requests,
  };
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
