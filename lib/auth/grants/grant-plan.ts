import type { DsnConfig } from '../../config/dsn.js';
import { ConfigError } from '../../errors.js';
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

/** The plan for the grant type the config layer resolved (lib/config/options/method.ts). */
export function grantPlanFor(dsn: DsnConfig): GrantPlan {
  const grantType = dsn.grantType;
  if (grantType === undefined) {
    throw new ConfigError(
      `DSN "${dsn.name}": AuthenticationMethod=${dsn.effectiveMethod.code} (${dsn.effectiveMethod.name}) gets no token from TokenURI.`,
    );
  }
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
