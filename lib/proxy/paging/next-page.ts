import { keptPairs } from '../../http/query-credential.js';

/** One upstream request of a walk: where it goes. */
export interface PageAddress {
  /** `https://api.example.com` (URL#origin) */
  readonly origin: string;
  /** Host header for that origin */
  readonly host: string;
  /** path and query at the origin */
  readonly path: string;
}

const LINK_VALUE = /<([^>]*)>([^<]*)/g;
const REL = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i;

/** The target of RFC 8288 `rel="next"` in Link header values (several fields or one list). */
export function nextLinkTarget(values: readonly string[]): string | undefined {
  for (const value of values) {
    for (const m of value.matchAll(LINK_VALUE)) {
      const rel = REL.exec(m[2]!);
      const types = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
      if (types.includes('next')) return m[1]!.trim();
    }
  }
  return undefined;
}

/**
 * `path` with query parameter `name` set to `value` (any same-named parameter replaced, every
 * other byte kept): the cursor, offset or page number of the next request.
 */
export function withQueryParam(path: string, name: string, value: string): string {
  const q = path.indexOf('?');
  const base = q === -1 ? path : path.slice(0, q);
  const kept = q === -1 ? '' : keptPairs(path.slice(q + 1), (n) => n === name);
  return `${base}?${kept === '' ? '' : `${kept}&`}${encodeName(name)}=${encodeURIComponent(value)}`;
}

/** OData's `$skip` and `$skiptoken` are written as they are; servers take both spellings. */
function encodeName(name: string): string {
  return encodeURIComponent(name).replace(/%24/g, '$');
}

/**
 * A next-page URL from a page body or a Link header, resolved against the page it came from;
 * `why` says what is wrong with it instead when the credential may not go there.
 */
export function resolveNextUrl(
  value: string,
  current: PageAddress,
  credentialOrigins: readonly string[],
): { address: PageAddress } | { why: string } {
  let url: URL;
  try {
    url = new URL(value, current.origin + current.path);
  } catch {
    return { why: `its next URL "${truncate(value)}" is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { why: `its next URL "${truncate(value)}" is not an http(s) URL` };
  if (!credentialOrigins.includes(url.origin)) {
    return {
      why:
        `its next URL leads to ${url.origin}, which is neither the DSN's HostName nor in its ` +
        'AllowedHosts: tokenshim sends credentials nowhere else (add that origin to AllowedHosts if it is the same API)',
    };
  }
  return {
    address: {
      origin: url.origin,
      host: url.origin === current.origin ? current.host : url.host,
      path: url.pathname + url.search,
    },
  };
}

function truncate(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}...` : value;
}
