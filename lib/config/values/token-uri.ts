import type { TokenEndpoint } from '../dsn.js';
import { parseHttpUrl } from './http-url.js';
import type { OptionParser } from './parser.js';

/**
 * TokenURI: DataDirect sends GET unless the value starts with a verb (`POST https://...`). A value
 * that starts with a scheme (`https:`) has no verb, even though `https:` looks like one word.
 */
export const tokenUri: OptionParser<TokenEndpoint, 'string'> = {
  type: 'string',
  parse(value, ctx) {
    const trimmed = value.trim();
    const m = /^([A-Za-z]+)\s+(\S.*)$/.exec(trimmed);
    const prefixed = m !== null && !/^[a-z][a-z0-9+.-]*:/i.test(trimmed);
    const verb = prefixed ? m[1]!.toUpperCase() : 'GET';
    const urlText = prefixed ? m[2]!.trim() : trimmed;
    if (verb !== 'GET' && verb !== 'POST') {
      ctx.error(
        `${ctx.option} starts with "${m![1]}", but a token request can only be GET or POST`,
        `write ${ctx.option}=POST https://... (or no prefix for GET)`,
      );
      return undefined;
    }
    const url = parseHttpUrl(urlText);
    if (!url) {
      ctx.error(
        `${ctx.option} "${urlText}" is not an http:// or https:// URL`,
        `write the token endpoint as a full URL, e.g. ${ctx.option}=POST https://login.example.com/oauth/token`,
      );
      return undefined;
    }
    return { method: verb, url };
  },
};
