import { distance } from 'fastest-levenshtein';

/**
 * Joined pages: how tokenshim walks an API's pages and answers one result. The same settings come
 * from two places, with one grammar: `tokenshim.<key>=<value>` query parameters on a request, and
 * the DSN option `Paging=<mode>;<key>=<value>;...` (the default for tools that cannot add query
 * parameters; the request's parameters win key by key).
 */

export const PAGING_MODES = ['next-url', 'link', 'cursor', 'offset', 'page'] as const;
export type PagingMode = (typeof PAGING_MODES)[number];

/** The setting names: `tokenshim.<key>` as query parameters, `<key>=` inside Paging. */
export const PAGING_KEYS = [
  'paging',
  'records',
  'next',
  'param',
  'size',
  'start',
  'max-pages',
] as const;
export type PagingKey = (typeof PAGING_KEYS)[number];

export const PAGING_DEFAULTS = Object.freeze({
  /** a top-level array */
  records: '$',
  /** first offset (`offset`) */
  offsetStart: 0,
  /** first page number (`page`) */
  pageStart: 1,
  /** the most pages one answer walks */
  maxPages: 1000,
  maxPagesLimit: 100_000,
});

/** Settings as given, every one optional: a DSN's Paging and a request's parameters merge. */
export interface PagingSettings {
  /** `none` turns a DSN's default off for one request */
  readonly paging?: PagingMode | 'none';
  /** JSON path of each page's records array */
  readonly records?: string;
  /** JSON path of the next page's URL (next-url) or cursor (cursor) */
  readonly next?: string;
  /** the query parameter that carries the cursor, offset or page number */
  readonly param?: string;
  /** page size: the offset step; a shorter page ends the walk */
  readonly size?: number;
  /** first offset or page number */
  readonly start?: number;
  readonly maxPages?: number;
}

export type MutablePagingSettings = { -readonly [K in keyof PagingSettings]: PagingSettings[K] };

/** How a setting is spelt where it was given: `tokenshim.size` or `size=` in Paging. */
export type Spell = (key: PagingKey) => string;

/**
 * Sets one setting from its text. Returns what is wrong with the value, as a sentence naming it
 * as the user spelt it and the fix; undefined when it is fine.
 */
export function setPagingValue(
  into: MutablePagingSettings,
  key: PagingKey,
  text: string,
  spell: Spell,
): string | undefined {
  const value = text.trim();
  switch (key) {
    case 'paging': {
      const mode = value.toLowerCase();
      if (mode !== 'none' && !(PAGING_MODES as readonly string[]).includes(mode))
        return `${spell('paging')}=${value} is not a paging style: use ${PAGING_MODES.join(', ')} or none`;
      into.paging = mode as PagingMode | 'none';
      return undefined;
    }
    case 'records':
    case 'next':
    case 'param':
      if (value === '')
        return `${spell(key)} is empty: give ${key === 'param' ? 'a query parameter name' : 'a JSON path such as value or data.items'}`;
      if (key === 'next' && value === '$')
        return `${spell('next')}=$ names the whole page: give the key that holds the next URL or cursor`;
      into[key] = value;
      return undefined;
    case 'size':
    case 'start':
    case 'max-pages': {
      const min = key === 'start' ? 0 : 1;
      const max = key === 'max-pages' ? PAGING_DEFAULTS.maxPagesLimit : Number.MAX_SAFE_INTEGER;
      if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
        return `${spell(key)}=${value} is not a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`;
      if (key === 'max-pages') into.maxPages = Number(value);
      else into[key] = Number(value);
      return undefined;
    }
  }
}

/** The setting a misspelt name was meant to be, for "did you mean". */
export function closestPagingKey(name: string): PagingKey | undefined {
  const lower = name.toLowerCase();
  let best: { key: PagingKey; d: number } | undefined;
  for (const key of PAGING_KEYS) {
    const d = distance(lower, key);
    if (!best || d < best.d) best = { key, d };
  }
  return best && best.d <= 2 ? best.key : undefined;
}

/**
 * The DSN option: a paging style first, then `key=value` pairs, separated by `;` (odbc.ini keeps
 * such a value whole) or `&` (no braces needed in a connection string):
 * `Paging=next-url;records=value;next=@odata.nextLink`.
 */
export function parsePagingOption(text: string): { settings: PagingSettings; problems: string[] } {
  const settings: MutablePagingSettings = {};
  const problems: string[] = [];
  const spell: Spell = (key) => (key === 'paging' ? 'Paging' : `${key}`);
  const parts = text
    .split(/[;&]/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  parts.forEach((part, i) => {
    const eq = part.indexOf('=');
    if (eq === -1) {
      if (i !== 0) {
        problems.push(`"${part}" in Paging has no value: write key=value, e.g. size=100`);
        return;
      }
      const problem = setPagingValue(settings, 'paging', part, spell);
      if (problem) problems.push(problem);
      return;
    }
    const name = part.slice(0, eq).trim().toLowerCase();
    const key = (PAGING_KEYS as readonly string[]).includes(name) ? (name as PagingKey) : undefined;
    if (key === undefined) {
      const guess = closestPagingKey(name);
      problems.push(
        `"${part.slice(0, eq).trim()}" in Paging is not a paging setting` +
          (guess ? ` (did you mean ${guess}?)` : `: use ${PAGING_KEYS.join(', ')}`),
      );
      return;
    }
    const problem = setPagingValue(settings, key, part.slice(eq + 1), spell);
    if (problem) problems.push(problem);
  });
  if (settings.paging !== undefined && settings.paging !== 'none')
    problems.push(...missingForMode(settings, spell));
  return { settings, problems };
}

/** What a paging style needs that `s` lacks, as sentences naming the setting and an example. */
export function missingForMode(s: PagingSettings, spell: Spell): string[] {
  const needs = (key: PagingKey, what: string): string =>
    `${spell('paging')}=${s.paging} needs ${spell(key)} (${what})`;
  switch (s.paging) {
    case 'next-url':
      return s.next === undefined
        ? [
            needs(
              'next',
              'the JSON path of the next page URL, e.g. @odata.nextLink or links.next.href',
            ),
          ]
        : [];
    case 'cursor':
      return [
        ...(s.next === undefined
          ? [needs('next', 'the JSON path of the cursor, e.g. nextPageToken')]
          : []),
        ...(s.param === undefined
          ? [needs('param', 'the query parameter that sends it back, e.g. pageToken')]
          : []),
      ];
    case 'offset':
    case 'page':
      return s.param === undefined
        ? [
            needs(
              'param',
              s.paging === 'offset'
                ? 'the offset query parameter, e.g. startAt or offset'
                : 'the page-number query parameter, e.g. page',
            ),
          ]
        : [];
    default:
      return [];
  }
}

/** Settings as the Paging option spells them: `next-url;records=value;next=@odata.nextLink`. */
export function formatPagingSettings(s: PagingSettings): string {
  const parts: string[] = s.paging === undefined ? [] : [s.paging];
  const values: Record<Exclude<PagingKey, 'paging'>, string | number | undefined> = {
    records: s.records,
    next: s.next,
    param: s.param,
    size: s.size,
    start: s.start,
    'max-pages': s.maxPages,
  };
  for (const [key, value] of Object.entries(values))
    if (value !== undefined) parts.push(`${key}=${value}`);
  return parts.join(';');
}
