import type { DsnConfig } from '../../config/dsn.js';
import {
  PAGING_DEFAULTS,
  PAGING_KEYS,
  closestPagingKey,
  missingForMode,
  setPagingValue,
  type PagingKey,
  type MutablePagingSettings,
  type PagingMode,
  type PagingSettings,
  type Spell,
} from '../../config/paging-option.js';
import { PagingRequestError } from '../../errors.js';
import { decodeQueryComponent, keptPairs } from '../../http/query-credential.js';

/** What one request asks of the page walk, with every default applied. */
export interface PagingPlan {
  readonly mode: PagingMode;
  readonly records: string;
  readonly next?: string;
  readonly param?: string;
  readonly size?: number;
  /** first offset or page number */
  readonly start: number;
  readonly maxPages: number;
  /** `Accept: application/x-ndjson` asks for one record per line */
  readonly format: 'json' | 'ndjson';
}

export interface PagingRequest {
  /** the upstream path and query with every `tokenshim.*` parameter removed */
  readonly path: string;
  /** undefined: the request is forwarded as usual */
  readonly plan?: PagingPlan;
}

export const NDJSON = 'application/x-ndjson';
const PREFIX = 'tokenshim.';
/** the cheap test every request pays: no `tokenshim` in the path, nothing to take out */
const MAY_HAVE_RESERVED = /tokenshim/i;
const spellQuery: Spell = (key) => PREFIX + key;

/**
 * The request's `tokenshim.*` parameters taken out of its upstream path (the upstream never sees
 * one), merged over the DSN's Paging default key by key, and checked. Undefined when neither is
 * there: the hot path does no more than one regular-expression test.
 * Throws PagingRequestError naming every parameter that cannot be used.
 */
export function pagingRequest(
  path: string,
  dsn: DsnConfig,
  method: string,
  accept: string | undefined,
): PagingRequest | undefined {
  const q = path.indexOf('?');
  const hasReserved = q !== -1 && MAY_HAVE_RESERVED.test(path.slice(q));
  if (!hasReserved && dsn.paging === undefined) return undefined;

  const given: Partial<Record<PagingKey, string>> = {};
  const problems: string[] = [];
  let stripped = path;
  if (hasReserved) {
    const query = path.slice(q + 1);
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      const name = decodeQueryComponent(eq === -1 ? pair : pair.slice(0, eq));
      if (name.length < PREFIX.length || name.slice(0, PREFIX.length).toLowerCase() !== PREFIX)
        continue;
      const key = name.slice(PREFIX.length).toLowerCase();
      if (!(PAGING_KEYS as readonly string[]).includes(key)) {
        const guess = closestPagingKey(key);
        problems.push(
          `${name} is not a tokenshim parameter` +
            (guess
              ? ` (did you mean ${PREFIX}${guess}?)`
              : `: use ${PAGING_KEYS.map(spellQuery).join(', ')}`),
        );
        continue;
      }
      if (given[key as PagingKey] !== undefined) problems.push(`${PREFIX}${key} is given twice`);
      given[key as PagingKey] = eq === -1 ? '' : decodeQueryComponent(pair.slice(eq + 1));
    }
    const kept = keptPairs(query, (n) => n.slice(0, PREFIX.length).toLowerCase() === PREFIX);
    stripped = path.slice(0, q) + (kept === '' ? '' : `?${kept}`);
  }

  const fromQuery: MutablePagingSettings = {};
  for (const [key, text] of Object.entries(given) as [PagingKey, string][]) {
    const problem = setPagingValue(fromQuery, key, text, spellQuery);
    if (problem) problems.push(problem);
  }
  const settings: PagingSettings = { ...dsn.paging, ...fromQuery };
  const asked = Object.keys(given).length > 0;

  if (problems.length === 0 && (settings.paging === undefined || settings.paging === 'none')) {
    if (asked && settings.paging === undefined)
      problems.push(
        `${PREFIX}paging is missing: say how the API pages (next-url, link, cursor, offset or page)`,
      );
    else return { path: stripped };
  }
  if (method !== 'GET') {
    // a DSN default applies to GETs; other methods pass through as usual
    if (given.paging === undefined && problems.length === 0) return { path: stripped };
    problems.push(`joined pages are fetched with GET, and this request is a ${method}`);
  }
  if (problems.length === 0) problems.push(...missingForMode(settings, spellQuery));
  if (problems.length > 0) throw new PagingRequestError(dsn.name, problems);

  const mode = settings.paging as PagingMode;
  return {
    path: stripped,
    plan: {
      mode,
      records: settings.records ?? PAGING_DEFAULTS.records,
      ...(settings.next === undefined ? {} : { next: settings.next }),
      ...(settings.param === undefined ? {} : { param: settings.param }),
      ...(settings.size === undefined ? {} : { size: settings.size }),
      start: settings.start ?? startInQuery(stripped, settings.param) ?? defaultStart(mode),
      maxPages: settings.maxPages ?? PAGING_DEFAULTS.maxPages,
      format: wantsNdjson(accept) ? 'ndjson' : 'json',
    },
  };
}

function defaultStart(mode: PagingMode): number {
  return mode === 'page' ? PAGING_DEFAULTS.pageStart : PAGING_DEFAULTS.offsetStart;
}

/** `startAt=100` already in the URL is where an offset walk starts, unless tokenshim.start says */
function startInQuery(path: string, param: string | undefined): number | undefined {
  const q = path.indexOf('?');
  if (param === undefined || q === -1) return undefined;
  for (const pair of path.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || decodeQueryComponent(pair.slice(0, eq)) !== param) continue;
    const value = decodeQueryComponent(pair.slice(eq + 1));
    if (/^\d+$/.test(value)) return Number(value);
  }
  return undefined;
}

function wantsNdjson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((range) => range.split(';')[0]!.trim().toLowerCase() === NDJSON);
}

/**
 * The client's request headers as every page request carries them: the API is asked for JSON
 * (`Accept: application/x-ndjson` is addressed to tokenshim), in codings tokenshim can decode.
 */
export function pageRequestHeaders(headers: readonly string[], plan: PagingPlan): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (lower === 'accept-encoding' || (lower === 'accept' && plan.format === 'ndjson')) continue;
    out.push(headers[i]!, headers[i + 1]!);
  }
  out.push('accept-encoding', 'gzip, deflate, br');
  if (plan.format === 'ndjson') out.push('accept', 'application/json');
  return out;
}
