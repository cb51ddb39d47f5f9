import type { TokenPlacement } from '../dsn.js';
import { HTTP_TOKEN, type OptionParser } from './parser.js';

/**
 * TokenPlacement: `header` (Authorization), `header:NAME` or `query:NAME`. Only the Authorization
 * header carries a scheme before the token (RFC 9110 11.6.2); other headers get the token alone.
 */
export const tokenPlacement: OptionParser<TokenPlacement, 'string'> = {
  type: 'string',
  parse(value, ctx) {
    const m = /^(header|query)(?::(.+))?$/i.exec(value.trim());
    const where = m?.[1]?.toLowerCase();
    const name = m?.[2]?.trim();
    if (!where || (where === 'query' && !name)) {
      ctx.error(
        `${ctx.option}=${value} is not header, header:NAME or query:NAME`,
        `e.g. ${ctx.option}=query:access_token`,
      );
      return undefined;
    }
    if (where === 'query') return { kind: 'query', name: name! };
    if (name === undefined) return ctx.default;
    if (!HTTP_TOKEN.test(name)) {
      ctx.error(`"${name}" is not a valid HTTP header name`, 'use letters, digits and -');
      return undefined;
    }
    return { kind: 'header', name, scheme: name.toLowerCase() === 'authorization' };
  },
};

/** TokenScheme: the word before the token (Zoho wants `Authorization: Zoho-oauthtoken <token>`). */
export const tokenScheme: OptionParser<string, 'string'> = {
  type: 'string',
  parse(value, ctx) {
    const scheme = value.trim();
    if (HTTP_TOKEN.test(scheme)) return scheme;
    ctx.error(
      `${ctx.option} "${scheme}" is not one word (RFC 9110 auth-scheme)`,
      `write the scheme alone, e.g. ${ctx.option}=Zoho-oauthtoken`,
    );
    return undefined;
  },
};
