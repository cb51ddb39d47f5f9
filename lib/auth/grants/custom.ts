import type { Grant } from './grant.js';

/**
 * A `GrantType` tokenshim has no special knowledge of (Qlik's urn:qlik:oauth:user-impersonation,
 * token exchange...): grant_type alone; client auth, Scope and TokenParams carry the rest.
 */
export function customGrant(grantType: string): Grant {
  return { grantType, params: async () => [['grant_type', grantType]] };
}
