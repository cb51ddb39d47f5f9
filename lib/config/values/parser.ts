import { parseHttpUrl } from './http-url.js';

/** How an option's text is read; `secret` values are never printed whole. */
export type OptionType =
  'string' | 'secret' | 'integer' | 'boolean' | 'url' | 'method' | 'list' | 'enum';

/** What a parser may say about the text it was given; the reader adds file, line, DSN and key. */
export interface ParseContext<T> {
  /** the option's canonical name, for messages (`RefreshMargin=abc is not ...`) */
  readonly option: string;
  /** the option's default, for examples in a fix */
  readonly default: T | undefined;
  error(message: string, fix: string): void;
  warn(message: string, fix: string): void;
}

/**
 * Text to typed value. Returns undefined after reporting an error; never throws. The text is the
 * value as written (not trimmed), and never empty: an empty value means "not set".
 */
export interface OptionParser<T, K extends OptionType = OptionType> {
  readonly type: K;
  parse(text: string, ctx: ParseContext<T>): T | undefined;
}

/** RFC 9110 token: the characters a header name (or an auth-scheme) may use. */
export const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Any text, kept as written. */
export const text: OptionParser<string, 'string'> = {
  type: 'string',
  parse: (value) => value,
};

/** Text that grants access: masked by `tokenshim check`, redacted from anything printed. */
export const secret: OptionParser<string, 'secret'> = {
  type: 'secret',
  parse: (value) => value,
};

export function integer(
  range: { min?: number; max?: number } = {},
): OptionParser<number, 'integer'> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
  return {
    type: 'integer',
    parse(value, ctx) {
      const n = Number(value);
      if (/^\d+$/.test(value.trim()) && n >= min && n <= max) return n;
      const bounds = max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : '';
      ctx.error(
        `${ctx.option}=${value} is not a whole number${bounds}`,
        `write a number, e.g. ${ctx.option}=${ctx.default ?? min}`,
      );
      return undefined;
    },
  };
}

const YES = new Set(['1', 'true', 'yes', 'on']);
const NO = new Set(['0', 'false', 'no', 'off']);

export const boolean: OptionParser<boolean, 'boolean'> = {
  type: 'boolean',
  parse(value, ctx) {
    const v = value.trim().toLowerCase();
    if (YES.has(v)) return true;
    if (NO.has(v)) return false;
    ctx.error(
      `${ctx.option}=${v} is not a yes/no value`,
      `write ${ctx.option}=1 or ${ctx.option}=0`,
    );
    return undefined;
  },
};

/** One of a few words, any case. */
export function oneOf<const W extends string>(
  words: readonly W[],
  fix: string,
): OptionParser<W, 'enum'> {
  const spelt = `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
  return {
    type: 'enum',
    parse(value, ctx) {
      const v = value.toLowerCase();
      const word = words.find((w) => w === v);
      if (word === undefined) ctx.error(`${ctx.option}=${v} is not ${spelt}`, fix);
      return word;
    },
  };
}

/** A full http:// or https:// URL. */
export const httpUrl: OptionParser<URL, 'url'> = {
  type: 'url',
  parse(value, ctx) {
    const url = parseHttpUrl(value);
    if (!url) {
      ctx.error(
        `${ctx.option} "${value}" is not an http:// or https:// URL`,
        `write ${ctx.option} as a full URL`,
      );
    }
    return url;
  },
};

/** An HTTP header name (AuthHeader=X-Tenant). */
export const headerName: OptionParser<string, 'string'> = {
  type: 'string',
  parse(value, ctx) {
    if (HTTP_TOKEN.test(value)) return value;
    ctx.error(
      `${ctx.option} "${value}" is not a valid HTTP header name`,
      'use letters, digits and -',
    );
    return undefined;
  },
};

/**
 * Items separated by commas or spaces (`401,403`, `https://a https://b`). A bad item is reported
 * by itself (`"abc" in RefreshOnStatus is not ...`) and the good ones are kept.
 */
export function list<T>(item: {
  parse(part: string): T | undefined;
  /** what a bad item is not: `an HTTP error status` */
  readonly isNot: string;
  readonly fix: string;
}): OptionParser<readonly T[], 'list'> {
  return {
    type: 'list',
    parse(value, ctx) {
      const items: T[] = [];
      for (const part of value.split(/[\s,]+/).filter(Boolean)) {
        const parsed = item.parse(part);
        if (parsed === undefined)
          ctx.error(`"${part}" in ${ctx.option} is not ${item.isNot}`, item.fix);
        else items.push(parsed);
      }
      return items;
    },
  };
}
