import type { BodyCondition } from '../dsn.js';
import type { OptionParser } from './parser.js';

const EXAMPLE = 'RefreshOnBody=errors[].code=601,602';

/**
 * `RefreshOnBody=errors[].code=601,602`: conditions on a 2xx JSON body that mean "the token was
 * rejected" (Marketo answers an invalid or expired token with HTTP 200 and error 601 or 602).
 * A condition is `path=value[,value...]`; several are separated by spaces, and any one matching
 * is enough. A path is dot-separated keys (a key may itself hold dots, as in paging paths);
 * `[]` after a key says it holds an array whose elements are looked into, which arrays always are.
 */
export const bodyRejection: OptionParser<readonly BodyCondition[], 'string'> = {
  type: 'string',
  parse(value, ctx) {
    const conditions: BodyCondition[] = [];
    let ok = true;
    for (const part of value.split(/\s+/).filter(Boolean)) {
      const eq = part.indexOf('=');
      const rawPath = eq === -1 ? part : part.slice(0, eq);
      const path = rawPath.replace(/^\$\./, '').replaceAll('[]', '');
      const values =
        eq === -1
          ? []
          : part
              .slice(eq + 1)
              .split(',')
              .filter(Boolean);
      if (eq === -1 || values.length === 0) {
        ctx.error(
          `"${part}" in ${ctx.option} names no value to match`,
          `write path=value[,value...], e.g. ${EXAMPLE}`,
        );
        ok = false;
      } else if (path === '' || /[[\]]/.test(path) || path.startsWith('.') || path.endsWith('.')) {
        ctx.error(
          `"${rawPath}" in ${ctx.option} is not a JSON path`,
          `write keys separated by dots, with [] after a key that holds an array, e.g. ${EXAMPLE}`,
        );
        ok = false;
      } else {
        conditions.push({ path, values });
      }
    }
    return ok ? conditions : undefined;
  },
};
