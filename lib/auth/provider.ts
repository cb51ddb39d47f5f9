import { isAbsolute } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { Dispatcher } from 'undici';
import { systemClock, type Clock } from '../clock.js';
import type { DsnConfig } from '../config/dsn.js';
import { tokenParamsNeedUser } from '../config/values/token-params.js';
import { ConfigError, NothingToRefreshError, UserRequiredError } from '../errors.js';
import type {
  AttachedCredential,
  CredentialProvider,
  CredentialRequest,
  TokenStatus,
} from './credential.js';
import { createDsnDispatcher } from '../net/dsn-dispatcher.js';
import { MemoryTokenStore } from './stores/memory-store.js';
import { openTokenStore } from './stores/open-token-store.js';
import type { TokenStore } from './stores/token-store.js';
import { TokenEndpointMethod } from './token-endpoint-method.js';
import type { TokenEngineDeps } from './token-engine-deps.js';
import { TokenManager, type AccessToken } from './token/token-manager.js';

export interface CredentialProviderDeps extends TokenEngineDeps {
  /** default: openTokenStore(dsn, configPath) */
  readonly store?: TokenStore;
  /** the config file the DSN came from, for the default token store path */
  readonly configPath?: string;
}

type Pair = readonly [string, string];

/** What to attach for every method, static or OAuth, as the proxy's one interface. */
export function createCredentialProvider(
  dsn: DsnConfig,
  deps: CredentialProviderDeps = {},
): CredentialProvider {
  const method = dsn.effectiveMethod;
  switch (method.kind) {
    case 'none':
      return staticProvider(dsn, { headers: [], query: [] });
    case 'static':
      return staticProvider(dsn, staticCredential(dsn));
    case 'oauth':
      return new OAuthCredentialProvider(dsn, deps);
    case 'unsupported':
      throw new ConfigError(
        `DSN "${dsn.name}": AuthenticationMethod=${method.code} (${method.name}) is not supported by tokenshim yet; ` +
          'use an OAuth2 method (50-56), Basic (0), BearerToken (34), HttpHeader (25) or UrlParameter (14).',
      );
  }
}

function staticCredential(dsn: DsnConfig): AttachedCredential {
  const method = dsn.effectiveMethod;
  switch (method.code) {
    case 0: {
      const user = required(dsn, dsn.user, 'User');
      const password = dsn.password ?? '';
      // RFC 7617: user-pass is plain UTF-8 here (unlike OAuth's form-encoded client credentials)
      const value = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
      return { headers: [[dsn.authHeader ?? 'Authorization', value]], query: [] };
    }
    case 34:
      return withPlacement(dsn, required(dsn, dsn.securityToken, 'SecurityToken'), 'Bearer');
    case 25:
      return {
        headers: [
          [dsn.authHeader ?? 'Authorization', required(dsn, dsn.securityToken, 'SecurityToken')],
        ],
        query: [],
      };
    case 14:
      return {
        headers: [],
        query: [
          [
            required(dsn, dsn.authParam, 'AuthParam'),
            required(dsn, dsn.securityToken, 'SecurityToken'),
          ],
        ],
      };
    case 50:
      return withPlacement(dsn, required(dsn, dsn.accessToken, 'AccessToken'), 'Bearer');
    default:
      throw new ConfigError(
        `DSN "${dsn.name}": AuthenticationMethod=${method.code} is not a static method.`,
      );
  }
}

function required(dsn: DsnConfig, value: string | undefined, option: string): string {
  if (value === undefined || value === '') {
    throw new ConfigError(
      `DSN "${dsn.name}": AuthenticationMethod=${dsn.effectiveMethod.code} (${dsn.effectiveMethod.name}) needs ${option}; add ${option}=... to the DSN.`,
    );
  }
  return value;
}

/** TokenPlacement: `Authorization: Bearer <token>` (scheme from token_type), `<name>: <token>`, or a query parameter. */
function withPlacement(dsn: DsnConfig, token: string, tokenType: string): AttachedCredential {
  const placement = dsn.tokenPlacement;
  if (placement.kind === 'query') return { headers: [], query: [[placement.name, token]] };
  // TokenScheme replaces the token_type (Zoho-oauthtoken) and adds one to any header
  const scheme = dsn.tokenScheme ?? (placement.scheme ? tokenType : undefined);
  const value = scheme === undefined ? token : `${scheme} ${token}`;
  return { headers: [[placement.name, value]], query: [] };
}

/**
 * AuthHeader + SecurityToken beside a token (tenant ids) and the Model file's #headers: config
 * decided which are sent (lib/config/options/upstream-headers.ts).
 */
function upstreamHeaders(dsn: DsnConfig): Pair[] {
  return dsn.upstreamHeaders.map((h) => [h.name, h.value]);
}

function staticProvider(dsn: DsnConfig, own: AttachedCredential): CredentialProvider {
  const state: TokenStatus['state'] = dsn.effectiveMethod.kind === 'none' ? 'none' : 'static';
  const credential = { ...own, headers: [...own.headers, ...upstreamHeaders(dsn)] };
  return {
    dsn,
    stripsClientAuthorization: false,
    perUser: false,
    credential: async () => credential,
    invalidate: () => false,
    status: () => ({ state, tokenRequests: 0 }),
    forceRefresh: async () => {
      throw new NothingToRefreshError(dsn.name, dsn.effectiveMethod.code);
    },
    prefetch: () => undefined,
    retire: () => undefined,
    close: async () => undefined,
  };
}

/**
 * OAuth DSNs: one TokenManager, or one per user (TokenParams with `{user}`) in a bounded LRU of
 * MaxUserTokens managers sharing one HTTP client.
 */
class OAuthCredentialProvider implements CredentialProvider {
  readonly dsn: DsnConfig;
  readonly stripsClientAuthorization = true;
  readonly perUser: boolean;
  readonly #deps: CredentialProviderDeps & {
    store: TokenStore;
    dispatcher: Dispatcher;
    clock: Clock;
    endpointMethod: TokenEndpointMethod;
  };
  readonly #ownsDispatcher: boolean;
  readonly #shared: TokenManager | undefined;
  readonly #perUser: LRUCache<string, TokenManager> | undefined;
  #closed = false;
  #retired = false;

  constructor(dsn: DsnConfig, deps: CredentialProviderDeps) {
    this.dsn = dsn;
    this.perUser = tokenParamsNeedUser(dsn.tokenParams);
    if (!dsn.tokenEndpoint) {
      throw new ConfigError(
        `DSN "${dsn.name}": AuthenticationMethod=${dsn.effectiveMethod.code} (${dsn.effectiveMethod.name}) needs TokenURI ` +
          '(the OAuth token endpoint; prefix it with "POST " for POST).',
      );
    }
    const configPath = deps.configPath ?? (isAbsolute(dsn.source) ? dsn.source : undefined);
    this.#ownsDispatcher = deps.dispatcher === undefined;
    this.#deps = {
      ...deps,
      store: deps.store ?? openTokenStore(dsn, configPath),
      dispatcher:
        deps.dispatcher ??
        createDsnDispatcher(dsn, { purpose: 'token-endpoint', env: process.env }),
      clock: deps.clock ?? systemClock,
      // what one user's refused GET taught holds for every user of the DSN
      endpointMethod: new TokenEndpointMethod(),
    };
    if (this.perUser) {
      this.#perUser = new LRUCache<string, TokenManager>({
        max: Math.max(1, dsn.maxUserTokens),
        dispose: (manager) => void manager.close(),
      });
    } else {
      this.#shared = this.#newManager(undefined);
    }
  }

  credential(request: CredentialRequest = {}): Promise<AttachedCredential> {
    let manager: TokenManager;
    try {
      manager = this.#manager(request.user);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    // A held, valid token is attached without touching request.signal: the proxy makes that
    // abort signal lazily, so the common request allocates no AbortController.
    const ready = manager.tokenIfReady();
    if (ready) return Promise.resolve(this.#attach(ready, manager.user));
    const { signal } = request;
    return manager
      .getToken(signal ? { signal } : {})
      .then((token) => this.#attach(token, manager.user));
  }

  invalidate(cred: AttachedCredential): boolean {
    if (cred.accessToken === undefined) return false;
    const manager = this.perUser
      ? cred.user === undefined
        ? undefined
        : this.#perUser?.get(cred.user)
      : this.#shared;
    return manager?.invalidate(cred.accessToken) ?? false;
  }

  async forceRefresh(request: Pick<CredentialRequest, 'user'> = {}): Promise<AttachedCredential> {
    const manager = this.#manager(request.user);
    return this.#attach(await manager.forceRefresh(), manager.user);
  }

  prefetch(): void {
    // per-user DSNs have no token to hold until a user's request names the user
    this.#shared?.prefetch();
  }

  retire(): void {
    this.#retired = true;
    for (const manager of this.#managers()) manager.retire();
  }

  status(): TokenStatus {
    if (this.#shared) return this.#shared.status();
    // per-user DSNs: the worst state among the users, for a one-line health view
    let requests = 0;
    let worst: TokenStatus | undefined;
    for (const manager of this.#perUser?.values() ?? []) {
      const s = manager.status();
      requests += s.tokenRequests;
      if (!worst || SEVERITY[s.state] > SEVERITY[worst.state]) worst = s;
    }
    return { ...(worst ?? { state: 'empty' }), tokenRequests: requests };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const managers = this.#managers();
    this.#perUser?.clear();
    await Promise.all(managers.map((m) => m.close()));
    if (this.#ownsDispatcher) await this.#deps.dispatcher.close();
  }

  #managers(): TokenManager[] {
    return this.#shared ? [this.#shared] : [...(this.#perUser?.values() ?? [])];
  }

  #manager(user: string | undefined): TokenManager {
    if (this.#shared) return this.#shared;
    if (user === undefined || user === '') throw new UserRequiredError(this.dsn.name);
    let manager = this.#perUser!.get(user);
    if (!manager) {
      manager = this.#newManager(user);
      if (this.#retired) manager.retire();
      if (!this.#closed) this.#perUser!.set(user, manager);
    }
    return manager;
  }

  #newManager(user: string | undefined): TokenManager {
    return new TokenManager({
      ...this.#deps,
      dsn: this.dsn,
      // A user's tokens live and die with its entry in the LRU. Kept in the DSN's store, they
      // would outgrow MaxUserTokens there (every user ever seen, access tokens on disk), and an
      // impersonation grant has no refresh token worth keeping: a new one is minted.
      store: user === undefined ? this.#deps.store : new MemoryTokenStore(),
      ...(user === undefined ? {} : { user }),
    });
  }

  /** one AttachedCredential per token object: built once, reused by every request it serves */
  readonly #attached = new WeakMap<AccessToken, AttachedCredential>();

  #attach(token: AccessToken, user: string | undefined): AttachedCredential {
    let cred = this.#attached.get(token);
    if (!cred) {
      cred = this.#buildCredential(token, user);
      this.#attached.set(token, cred);
    }
    return cred;
  }

  #buildCredential(token: AccessToken, user: string | undefined): AttachedCredential {
    const base = withPlacement(this.dsn, token.accessToken, token.tokenType);
    return {
      ...base,
      headers: [...base.headers, ...upstreamHeaders(this.dsn)],
      accessToken: token.accessToken,
      // what POST /_tokenshim/token/<DSN> hands out
      tokenType: token.tokenType,
      expiresAt: token.expiresAt,
      ...(user === undefined ? {} : { user }),
    };
  }
}

const SEVERITY: Record<TokenStatus['state'], number> = {
  none: 0,
  static: 0,
  valid: 1,
  empty: 2,
  refreshing: 3,
  expired: 4,
  failing: 5,
  'needs-login': 6,
};
