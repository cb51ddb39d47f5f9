import type { DsnConfig } from '../../config/dsn.js';
import { authorizationCodeGrant } from './authorization-code.js';
import { clientCredentialsGrant } from './client-credentials.js';
import { customGrant } from './custom.js';
import type { Grant } from './grant.js';
import { JWT_BEARER_GRANT_TYPE, jwtBearerGrant } from './jwt-bearer.js';
import { passwordGrant } from './password.js';

/**
 * How a DSN gets its tokens: a grant for the first token (and for every token, when it can be
 * repeated), and whether a refresh token, once known, takes over.
 */
export interface GrantPlan {
  /** the grant_type the DSN is configured for, for status and logs */
  readonly grantType: string;
  /** undefined: only a refresh token (config, store or `tokenshim login`) can get a token */
  readonly initial: Grant | undefined;
  /** the initial grant works once (authorization codes are single-use) */
  readonly initialOnce: boolean;
  /** tokens come from the refresh_token grant whenever a refresh token is known */
  readonly refreshes: boolean;
}

/** DataDirect's method numbers, for DSNs whose grantType the config layer left unset. */
const GRANT_BY_METHOD: ReadonlyMap<number, string> = new Map([
  [51, 'authorization_code'],
  [52, 'password'],
  [53, 'client_credentials'],
  [54, 'refresh_token'],
  [55, JWT_BEARER_GRANT_TYPE],
  [56, 'refresh_token'],
]);

/**
 * AuthenticationMethod=24 (OAuth2 legacy): DataDirect picks the grant from what is set. Null when
 * only an AccessToken is set (a static credential).
 */
export function legacyGrantType(dsn: DsnConfig): string | null {
  if (dsn.refreshToken) return 'refresh_token';
  if (dsn.user && dsn.password !== undefined) return 'password';
  if (dsn.clientId && dsn.clientSecret) return 'client_credentials';
  return null;
}

export function grantTypeOf(dsn: DsnConfig): string | undefined {
  if (dsn.grantType) return dsn.grantType;
  const code = dsn.effectiveMethod.code;
  if (code === 24) return legacyGrantType(dsn) ?? undefined;
  return GRANT_BY_METHOD.get(code);
}

export function grantPlanFor(dsn: DsnConfig): GrantPlan {
  const grantType = grantTypeOf(dsn) ?? 'refresh_token';
  switch (grantType) {
    case 'refresh_token':
      return { grantType, initial: undefined, initialOnce: false, refreshes: true };
    case 'authorization_code':
      return { grantType, initial: authorizationCodeGrant, initialOnce: true, refreshes: true };
    case 'password':
      return { grantType, initial: passwordGrant, initialOnce: false, refreshes: false };
    case 'client_credentials':
      return { grantType, initial: clientCredentialsGrant, initialOnce: false, refreshes: false };
    case JWT_BEARER_GRANT_TYPE:
      return { grantType, initial: jwtBearerGrant(), initialOnce: false, refreshes: false };
    default:
      return { grantType, initial: customGrant(grantType), initialOnce: false, refreshes: false };
  }
}
