import type { DsnConfig } from '../../config/dsn.js';
import type { TokenStore } from '../stores/token-store.js';
import { buildAuthorizationUrl } from './authorization-url.js';
import { checkLoginDsn } from './login-dsn.js';
import { saveLogin, type LoginResult } from './login-result.js';
import { withLoginTimeout } from './login-timeout.js';
import {
  requestLoginToken,
  withLoginTransport,
  type LoginTransportDeps,
} from './login-token-request.js';
import { listenForRedirect, redirectTarget } from './loopback-redirect.js';
import { createPkcePair, createState } from './pkce.js';

export interface BrowserLoginDeps extends LoginTransportDeps {
  /** where the refresh token goes (the DSN's TokenStore) */
  readonly store: TokenStore;
  /** how long to wait for the browser's redirect */
  readonly timeoutMs: number;
  /** told the URL to open and where the redirect will arrive, before waiting */
  readonly showUrl: (url: string, redirectUri: string) => void;
  /** opens the URL in a browser; not called when undefined (--no-browser, no display, tests) */
  readonly openBrowser?: ((url: string) => Promise<void>) | undefined;
  readonly onStateMismatch?: () => void;
}

/**
 * `tokenshim login`: the authorization-code flow with PKCE (RFC 7636, S256) through the
 * person's browser and a loopback redirect (RFC 8252), ending with the refresh token in the
 * DSN's token store. The proxy (and `tokenshim token`) then live on it.
 */
export async function loginWithBrowser(
  dsn: DsnConfig,
  deps: BrowserLoginDeps,
): Promise<LoginResult> {
  const { startUri, tokenEndpoint } = checkLoginDsn(dsn, 'AuthURI');
  const pkce = createPkcePair();
  const state = createState();
  const listener = await listenForRedirect({
    dsn: dsn.name,
    target: redirectTarget(dsn),
    state,
    ...(deps.onStateMismatch ? { onStateMismatch: deps.onStateMismatch } : {}),
  });
  try {
    return await withLoginTransport(dsn, deps, async (transport) => {
      const url = buildAuthorizationUrl(dsn, startUri, {
        redirectUri: listener.redirectUri,
        state,
        pkce,
      }).href;
      deps.showUrl(url, listener.redirectUri);
      // a browser that fails to start is not fatal: the URL is on the screen
      if (deps.openBrowser) void deps.openBrowser(url).catch(() => undefined);

      const { code } = await withLoginTimeout(listener.response, {
        dsn: dsn.name,
        clock: transport.clock,
        timeoutMs: deps.timeoutMs,
        what: 'no login arrived',
        retry:
          'Open the printed URL, finish the login in the browser, or run tokenshim login again with a longer --timeout.',
      });
      // RFC 6749 4.1.3 with RFC 7636 4.5
      const tokens = await requestLoginToken(
        dsn,
        tokenEndpoint,
        [
          ['grant_type', 'authorization_code'],
          ['code', code],
          ['redirect_uri', listener.redirectUri],
          ['code_verifier', pkce.verifier],
        ],
        transport,
        [code, pkce.verifier],
      );
      return saveLogin(dsn, deps.store, tokens, transport.clock);
    });
  } finally {
    await listener.close();
  }
}
