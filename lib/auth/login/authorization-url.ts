import type { DsnConfig } from '../../config/dsn.js';
import type { PkcePair } from './pkce.js';

/**
 * The authorization request (RFC 6749 4.1.1 + RFC 7636 4.3) a person opens in a browser.
 * Parameters already in AuthURI (a provider's `access_type=offline`, `audience=...`) are kept;
 * the ones this flow owns replace any copy there.
 */
export function buildAuthorizationUrl(
  dsn: DsnConfig,
  authUri: URL,
  opts: { redirectUri: string; state: string; pkce: PkcePair },
): URL {
  const url = new URL(authUri);
  const set = (name: string, value: string): void => url.searchParams.set(name, value);
  set('response_type', 'code');
  if (dsn.clientId) set('client_id', dsn.clientId);
  set('redirect_uri', opts.redirectUri);
  if (dsn.scope) set('scope', dsn.scope);
  set('state', opts.state);
  set('code_challenge', opts.pkce.challenge);
  set('code_challenge_method', opts.pkce.method);
  // OpenID Connect Core 11: offline access "MUST" be asked for with prompt=consent, and servers
  // that follow it (oidc-provider, Okta, Auth0) drop offline_access, and so the refresh token,
  // without it. A prompt already in AuthURI is the provider-specific choice and is kept.
  if (dsn.scope?.split(/\s+/).includes('offline_access') && !url.searchParams.has('prompt')) {
    set('prompt', 'consent');
  }
  return url;
}
