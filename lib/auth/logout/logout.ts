import { systemClock } from '../../clock.js';
import type { DsnConfig } from '../../config/dsn.js';
import { grantPlanFor } from '../grants/grant-plan.js';
import { requireLoginMethod } from '../login/login-dsn.js';
import { sha256 } from '../login/login-result.js';
import {
  withLoginTransport,
  type LoginTransport,
  type LoginTransportDeps,
} from '../login/login-token-request.js';
import type { StoredTokens, TokenStore } from '../stores/token-store.js';
import { TokenLineage } from '../token/token-lineage.js';
import { revokeToken, type RevocationOutcome, type TokenTypeHint } from './revocation.js';

export interface LogoutDeps extends LoginTransportDeps {
  /** the DSN's TokenStore */
  readonly store: TokenStore;
}

export interface LogoutResult {
  /** the store's description (never a password) */
  readonly store: string;
  /** false: the DSN held no tokens (never logged in, or logged out already) */
  readonly hadTokens: boolean;
  /** what RevokeURI said of each token sent; empty without RevokeURI */
  readonly revocations: readonly {
    readonly hint: TokenTypeHint;
    readonly outcome: RevocationOutcome | 'failed';
    readonly message?: string;
  }[];
}

/**
 * `tokenshim logout`: revokes the DSN's tokens at RevokeURI (RFC 7009), the refresh token first
 * (2.1: revoking it may revoke the access tokens of its grant too, and it is the one that lasts),
 * then the access token; then writes a logout entry in place of the tokens, so neither this
 * machine nor another instance sharing the store redeems them again (token-lineage.ts). All of it
 * under the store's refresh lock: a refresh running elsewhere finishes first, and none starts
 * until the entry is written.
 *
 * If the refresh token cannot be revoked, nothing is cleared (LogoutError): it can still be
 * revoked by running logout again. An access token the server will not revoke stays valid until it
 * expires; the result says so.
 */
export async function logout(dsn: DsnConfig, deps: LogoutDeps): Promise<LogoutResult> {
  requireLoginMethod(dsn, 'tokenshim logout');
  const { store } = deps;
  const key = dsn.tokenStoreKey;
  return store.withRefreshLock(key, async () => {
    const stored = await store.load(key);
    const lineage = new TokenLineage(dsn, grantPlanFor(dsn).grantType, undefined);
    lineage.start(stored);
    // the one in use, and a stored one a RefreshToken pasted into the config has superseded
    const refreshTokens = new Set([lineage.refreshToken, stored?.refreshToken]);
    const tokens = [
      ...[...refreshTokens].map((value) => ({ hint: 'refresh_token' as const, value })),
      { hint: 'access_token' as const, value: stored?.accessToken },
    ].filter((t): t is { hint: TokenTypeHint; value: string } => t.value !== undefined);
    if (tokens.length === 0) return { store: store.description, hadTokens: false, revocations: [] };

    const revocations =
      dsn.revokeUri === undefined
        ? []
        : await withLoginTransport(dsn, deps, (transport) =>
            revokeAll(dsn, dsn.revokeUri!, tokens, transport),
          );
    const now = (deps.clock ?? systemClock).now();
    await store.save(key, logoutEntry(dsn, stored, now));
    return { store: store.description, hadTokens: true, revocations };
  });
}

async function revokeAll(
  dsn: DsnConfig,
  revokeUri: URL,
  tokens: readonly { hint: TokenTypeHint; value: string }[],
  transport: LoginTransport,
): Promise<LogoutResult['revocations']> {
  const out: LogoutResult['revocations'][number][] = [];
  for (const token of tokens) {
    try {
      out.push({ hint: token.hint, outcome: await revokeToken(dsn, revokeUri, token, transport) });
    } catch (e) {
      // the refresh token is what must not survive: without its revocation, stop here
      if (token.hint === 'refresh_token') throw e;
      out.push({ hint: token.hint, outcome: 'failed', message: (e as Error).message });
    }
  }
  return out;
}

/**
 * The entry that replaces the tokens: it descends from the config as it is (so a RefreshToken
 * pasted into the config later wins, as always), keeps an exchanged OAuthCode spent, and holds no
 * token.
 */
function logoutEntry(dsn: DsnConfig, stored: StoredTokens | undefined, now: number): StoredTokens {
  const oauthCodeHash =
    stored?.configOAuthCodeHash ?? (dsn.oauthCode ? sha256(dsn.oauthCode) : undefined);
  return {
    ...(dsn.refreshToken ? { configRefreshTokenHash: sha256(dsn.refreshToken) } : {}),
    ...(oauthCodeHash === undefined ? {} : { configOAuthCodeHash: oauthCodeHash }),
    loggedOutAt: now,
    updatedAt: now,
  };
}
