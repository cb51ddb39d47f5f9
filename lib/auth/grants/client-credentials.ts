import type { Grant } from './grant.js';

/** RFC 6749 4.4: the client authenticates as itself; nothing else to send. */
export const clientCredentialsGrant: Grant = {
  grantType: 'client_credentials',
  params: async () => [['grant_type', 'client_credentials']],
};
