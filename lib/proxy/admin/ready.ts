import type { CredentialProvider } from '../../auth/credential.js';
import { redactSecrets } from '../../auth/redact-secrets.js';
import { systemClock, type Clock } from '../../clock.js';
import { TokenUnavailableError } from '../../errors.js';
import { asTokenshimError, sendJson } from '../../http/problem.js';
import type { AdminRoute } from './admin-routes.js';
import { secretsOf } from '../../config/secrets.js';

export interface DsnReadiness {
  readonly dsn: string;
  readonly ready: boolean;
  readonly state: string;
  /** why the DSN is not ready (safe to show), or how it is ready when that is not obvious */
  readonly reason?: string;
}

export interface ReadyRouteOptions {
  readonly clock?: Clock;
  /** how long one DSN may take to get a token before it counts as not ready; default 10 s */
  readonly tokenTimeoutMs?: number;
}

/**
 * GET /_tokenshim/ready: 200 only when every DSN holds a valid token or can get one now, else
 * 503 naming the failing DSNs and why. A DSN without a valid token is asked for one (single
 * flight in the token engine, so a load balancer polling this does not multiply token requests).
 */
export function readyRoute(opts: ReadyRouteOptions = {}): AdminRoute {
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.tokenTimeoutMs ?? 10_000;
  return {
    method: ['GET', 'HEAD'],
    path: 'ready',
    summary: 'readiness: 200 when every DSN has or can get a valid token, else 503',
    async handle({ res, server }) {
      const dsns = await Promise.all(
        [...server.providers()].map(([name, p]) => readiness(name, p, clock, timeoutMs)),
      );
      const failing = dsns.filter((d) => !d.ready);
      sendJson(res, failing.length === 0 ? 200 : 503, {
        status: failing.length === 0 ? 'ready' : 'not ready',
        ...(failing.length === 0 ? {} : { failing: failing.map((d) => d.dsn) }),
        dsns,
      });
    },
  };
}

export async function readiness(
  name: string,
  provider: CredentialProvider,
  clock: Clock,
  timeoutMs: number,
): Promise<DsnReadiness> {
  const status = provider.status();
  const state = status.state;
  const safe = (text: string): string => redactSecrets(text, secretsOf(provider.dsn));
  if (state === 'static' || state === 'none') return { dsn: name, ready: true, state };
  // a rotated refresh token only in memory: a restart now would lose the DSN, and no refresh
  // token is redeemed until it is saved
  if (status.unsaved !== undefined) {
    return { dsn: name, ready: false, state, reason: safe(status.unsaved) };
  }
  if (state === 'needs-login') {
    return {
      dsn: name,
      ready: false,
      state,
      reason: safe(status.lastError ?? `run tokenshim login ${name}`),
    };
  }
  if (status.expiresAt !== undefined && status.expiresAt > clock.now()) {
    return { dsn: name, ready: true, state };
  }
  if (provider.perUser) {
    // one token per user: there is no token to hold until a user's request asks for one
    return { dsn: name, ready: true, state, reason: 'tokens are issued per user, on request' };
  }
  const abort = new AbortController();
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  try {
    await Promise.race([
      provider.credential({ signal: abort.signal }),
      new Promise<never>((_, reject) => {
        timer = clock.setTimeout(() => {
          // the timeout wins the race before the abandoned wait rejects with its own error
          reject(
            new TokenUnavailableError(name, `no token within ${Math.round(timeoutMs / 1000)} s`),
          );
          abort.abort();
        }, timeoutMs);
      }),
    ]);
    return { dsn: name, ready: true, state: provider.status().state };
  } catch (e) {
    return {
      dsn: name,
      ready: false,
      state: provider.status().state,
      // TokenshimErrors are written to be shown; anything else is named, never quoted
      reason: safe(asTokenshimError(e, name).message),
    };
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}
