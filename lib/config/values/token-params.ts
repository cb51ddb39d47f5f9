import type { TokenParams } from '../dsn.js';
import type { OptionParser } from './parser.js';

/** in TokenParams, replaced by the request's user (X-Tokenshim-User): one token per user */
export const USER_PLACEHOLDER = '{user}';

/**
 * TokenParams: extra token-request parameters as form pairs (`audience=x&resource=y`), or a JSON
 * object for JSON bodies (Qlik's `user_lookup`). grant_type is not theirs to change: GrantType is.
 */
export const tokenParams: OptionParser<TokenParams, 'string'> = {
  type: 'string',
  parse(value, ctx) {
    const params = value.trim().startsWith('{') ? jsonParams(value, ctx) : formParams(value);
    if (params === undefined) return undefined;
    const keys =
      params.kind === 'json' ? Object.keys(params.object) : params.pairs.map((p) => p[0]);
    if (keys.includes('grant_type')) {
      ctx.warn(
        `${ctx.option} cannot change grant_type; that entry is ignored`,
        'use GrantType=... instead',
      );
    }
    return params;
  },
};

function formParams(value: string): TokenParams {
  return { kind: 'form', pairs: [...new URLSearchParams(value)] };
}

function jsonParams(
  value: string,
  ctx: { readonly option: string; error(message: string, fix: string): void },
): TokenParams | undefined {
  try {
    // text that starts with { parses to an object, or not at all
    return { kind: 'json', object: JSON.parse(value) as Record<string, unknown> };
  } catch (e) {
    ctx.error(
      `${ctx.option} looks like JSON but does not parse: ${(e as Error).message}`,
      'write a JSON object such as {"audience":"x"}, or form pairs such as audience=x&resource=y',
    );
    return undefined;
  }
}

/** True when TokenParams mention `{user}`: such a DSN gets one token per user. */
export function tokenParamsNeedUser(params: TokenParams | undefined): boolean {
  if (!params) return false;
  const text =
    params.kind === 'form'
      ? params.pairs.map((p) => p.join('=')).join('&')
      : JSON.stringify(params.object);
  return text.includes(USER_PLACEHOLDER);
}
