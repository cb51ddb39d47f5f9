import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { systemClock, type Clock, type ClockTimer } from '../../clock.js';
import type { DsnConfig } from '../../config/dsn.js';
import { CODES, ConfigError, LoginError } from '../../errors.js';
import { createDsnDispatcher } from '../../net/dsn-dispatcher.js';
import { clientAuthFor } from '../client-auth.js';
import type { StoredTokens, TokenStore } from '../stores/token-store.js';
import { buildTokenRequest, parseTokenResponse, sendTokenRequest } from '../token-endpoint.js';
import { buildAuthorizationUrl } from './authorization-url.js';
import { listenForRedirect, redirectTarget } from './loopback-redirect.js';
import { createPkcePair, createState } from './pkce.js';

/** The methods whose tokens come from a person's login: a refresh token is what they live on. */
export const LOGIN_METHODS: ReadonlySet<number> = new Set([51, 54, 56]);

export interface BrowserLoginDeps {
  /** where the refresh token goes (the DSN's TokenStore) */
  readonly store: TokenStore;
  readonly clock?: Clock;
  /** HTTP client for the token endpoint; default: the DSN's transport, as the proxy uses */
  readonly dispatcher?: Dispatcher;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY for the token request; default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** how long to wait for the browser's redirect */
  readonly timeoutMs: number;
  /** told the URL to open and where the redirect will arrive, before waiting */
  readonly showUrl: (url: string, redirectUri: string) => void;
  /** opens the URL in a browser; not called when undefined (--no-browser, no display, tests) */
  readonly openBrowser?: ((url: string) => Promise<void>) | undefined;
  readonly onStateMismatch?: () => void;
}

export interface BrowserLoginResult {
  /** the store's description (never a password) */
  readonly store: string;
  /** epoch ms: when the access token that came with the login expires */
  readonly accessTokenExpiresAt: number;
  /** the scope the provider granted, when it said */
  readonly scope?: string;
}

/**
 * `tokenshim login`: the authorization-code flow with PKCE (RFC 7636, S256) through the
 * person's browser and a loopback redirect (RFC 8252), ending with the refresh token in the
 * DSN's token store. The proxy (and `tokenshim token`) then live on it: a running proxy whose DSN
 * needed a login notices the new refresh token in the store by itself.
 */
export async function loginWithBrowser(
  dsn: DsnConfig,
  deps: BrowserLoginDeps,
): Promise<BrowserLoginResult> {
  const { authUri, tokenEndpoint } = checkLoginDsn(dsn);
  const clock = deps.clock ?? systemClock;
  const pkce = createPkcePair();
  const state = createState();
  const listener = await listenForRedirect({
    dsn: dsn.name,
    target: redirectTarget(dsn),
    state,
    ...(deps.onStateMismatch ? { onStateMismatch: deps.onStateMismatch } : {}),
  });
  const ownsDispatcher = deps.dispatcher === undefined;
  let dispatcher: Dispatcher | undefined = deps.dispatcher;
  let timer: ClockTimer | undefined;
  try {
    const url = buildAuthorizationUrl(dsn, authUri, {
      redirectUri: listener.redirectUri,
      state,
      pkce,
    }).href;
    deps.showUrl(url, listener.redirectUri);
    // a browser that fails to start is not fatal: the URL is on the screen
    if (deps.openBrowser) void deps.openBrowser(url).catch(() => undefined);

    const timeout = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(
        () =>
          reject(
            new LoginError(
              dsn.name,
              `no login arrived within ${Math.round(deps.timeoutMs / 1000)} s. Open the printed URL, ` +
                'finish the login in the browser, or run tokenshim login again with a longer --timeout.',
              { code: CODES.LOGIN_TIMEOUT },
            ),
          ),
        deps.timeoutMs,
      );
    });
    const { code } = await Promise.race([listener.response, timeout]);
    clock.clearTimeout(timer as ClockTimer);
    timer = undefined;

    dispatcher ??= createDsnDispatcher(dsn, {
      purpose: 'token-endpoint',
      env: deps.env ?? process.env,
    });
    const sentAt = clock.now();
    const request = buildTokenRequest({
      endpoint: tokenEndpoint,
      format: dsn.tokenRequestFormat,
      // RFC 6749 4.1.3 with RFC 7636 4.5; scope belongs to the authorization request, not here
      grant: [
        ['grant_type', 'authorization_code'],
        ['code', code],
        ['redirect_uri', listener.redirectUri],
        ['code_verifier', pkce.verifier],
      ],
      tokenParams: dsn.tokenParams,
      clientAuth: clientAuthFor(dsn),
    });
    const raw = await sendTokenRequest(request, {
      dispatcher,
      dsn: dsn.name,
    });
    const tokens = parseTokenResponse(raw, {
      dsn: dsn.name,
      endpoint: tokenEndpoint,
      sentAt,
      defaultLifetimeSeconds: dsn.defaultTokenLifetimeSeconds,
      secrets: [dsn.clientSecret ?? '', code, pkce.verifier],
    });
    if (!tokens.refreshToken) {
      throw new LoginError(
        dsn.name,
        'the login worked, but the provider issued no refresh token, so tokenshim could not keep the ' +
          'DSN logged in. Ask for one: add offline_access to Scope (OpenID Connect providers), or the ' +
          "provider's own switch in AuthURI (Google: access_type=offline&prompt=consent), then log in again.",
        { code: CODES.LOGIN_NO_REFRESH_TOKEN },
      );
    }
    const entry: StoredTokens = {
      refreshToken: tokens.refreshToken,
      // the token manager adopts a stored refresh token only if the config's has not changed since
      ...(dsn.refreshToken ? { configRefreshTokenHash: sha256(dsn.refreshToken) } : {}),
      // an OAuthCode in the config is superseded by this login: it must not be redeemed later
      ...(dsn.oauthCode ? { configOAuthCodeHash: sha256(dsn.oauthCode) } : {}),
      updatedAt: clock.now(),
    };
    await deps.store.withRefreshLock(dsn.tokenStoreKey, () =>
      deps.store.save(dsn.tokenStoreKey, entry),
    );
    return {
      store: deps.store.description,
      accessTokenExpiresAt: tokens.expiresAt,
      ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
    };
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    await listener.close();
    if (ownsDispatcher && dispatcher) await dispatcher.close().catch(() => undefined);
  }
}

/** What a login needs from the DSN; every gap is a configuration error naming the option. */
export function checkLoginDsn(dsn: DsnConfig): {
  authUri: URL;
  tokenEndpoint: NonNullable<DsnConfig['tokenEndpoint']>;
} {
  const m = dsn.effectiveMethod;
  if (!LOGIN_METHODS.has(m.code)) {
    throw new ConfigError(
      `DSN "${dsn.name}": tokenshim login is for DSNs that live on a refresh token (AuthenticationMethod ` +
        `51, 54 or 56); this one uses ${m.code} (${m.name}), which needs no browser login.`,
    );
  }
  const missing = [
    dsn.authUri ? undefined : "AuthURI (the provider's authorization endpoint)",
    dsn.tokenEndpoint ? undefined : 'TokenURI (the token endpoint; "POST https://..." for POST)',
    dsn.clientId ? undefined : 'ClientID',
  ].filter((x): x is string => x !== undefined);
  if (missing.length > 0 || !dsn.authUri || !dsn.tokenEndpoint) {
    throw new ConfigError(
      `DSN "${dsn.name}": tokenshim login needs ${missing.join(', ')}; add it to the DSN.`,
    );
  }
  return { authUri: dsn.authUri, tokenEndpoint: dsn.tokenEndpoint };
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
