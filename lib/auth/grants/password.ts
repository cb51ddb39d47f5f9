import { ConfigError } from '../../errors.js';
import type { Grant } from './grant.js';

/** RFC 6749 4.3 (AuthenticationMethod=52): the resource owner's User and Password. */
export const passwordGrant: Grant = {
  grantType: 'password',
  params: async ({ dsn }) => {
    if (!dsn.user || dsn.password === undefined) {
      throw new ConfigError(
        `DSN "${dsn.name}": the password grant (AuthenticationMethod=52) needs User and Password; add both to the DSN.`,
      );
    }
    return [
      ['grant_type', 'password'],
      ['username', dsn.user],
      ['password', dsn.password],
    ];
  },
};
