import { lookupAuthMethod, type AuthMethod } from '../auth-methods.js';
import type { OptionParser } from './parser.js';

/** AuthenticationMethod: DataDirect's number (54) or name (OAuth2-RefreshToken), any case. */
export const authMethod: OptionParser<AuthMethod, 'method'> = {
  type: 'method',
  parse(value, ctx) {
    const found = lookupAuthMethod(value);
    if (!found) {
      ctx.error(
        `${ctx.option}=${value} is not a DataDirect authentication method`,
        'use a number or name such as 54 (OAuth2-RefreshToken), 53 (OAuth2-ClientCredentials), 34 (BearerToken) or 15 (None)',
      );
    }
    return found;
  },
};
