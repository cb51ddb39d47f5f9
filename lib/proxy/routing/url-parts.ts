import { findHeader } from '../../http/raw-headers.js';

/**
 * The pieces of a request target routing needs, read with char codes: these run on every request,
 * and `new URL()` would both cost more and normalise what must be forwarded byte for byte.
 */

const SLASH = 47;
const QUESTION = 63;
const HASH = 35;

/** The Host header from `req.rawHeaders` (name/value pairs), without building `req.headers`. */
export function findHost(raw: readonly string[]): string | undefined {
  return findHeader(raw, 'host');
}

/** `/marketo/rest/v1?x` → 8, the index where the first path segment ends (`/`, `?` or the end). */
export function firstSegmentEnd(path: string): number {
  let end = 1;
  while (end < path.length) {
    const c = path.charCodeAt(end);
    if (c === SLASH || c === QUESTION) break;
    end++;
  }
  return end;
}

export interface AbsoluteForm {
  /** lower case: `http`, `https` */
  readonly scheme: string;
  /** lower case, userinfo dropped, the scheme's default port dropped: `api.example.com:8443` */
  readonly authority: string;
  /** path and query, always starting with `/`; a fragment is kept as sent */
  readonly path: string;
}

/** `GET http://user@API.example.com:80/x?y` → `{ scheme: 'http', authority: 'api.example.com', path: '/x?y' }` */
export function splitAbsoluteForm(url: string): AbsoluteForm {
  const schemeEnd = url.indexOf('://') + 3;
  let authorityEnd = schemeEnd;
  while (authorityEnd < url.length) {
    const c = url.charCodeAt(authorityEnd);
    if (c === SLASH || c === QUESTION || c === HASH) break;
    authorityEnd++;
  }
  const scheme = url.slice(0, schemeEnd - 3).toLowerCase();
  let authority = url.slice(schemeEnd, authorityEnd).toLowerCase();
  const at = authority.lastIndexOf('@');
  if (at !== -1) authority = authority.slice(at + 1);
  authority = withoutDefaultPort(authority, scheme);
  const rest = url.slice(authorityEnd);
  const path = rest === '' || rest.charCodeAt(0) !== SLASH ? `/${rest}` : rest;
  return { scheme, authority, path };
}

/** The port an authority names explicitly, or undefined (none, or an IPv6 literal without one). */
export function explicitPort(authority: string): number | undefined {
  const colon = authority.lastIndexOf(':');
  if (colon === -1 || authority.endsWith(']')) return undefined;
  return Number(authority.slice(colon + 1));
}

/** `/rest/v1` + `/items?x` → `/rest/v1/items?x`; `/rest/v1` + `?x` → `/rest/v1?x`; '' + '' → `/` */
export function joinPath(base: string, rest: string): string {
  if (rest === '') return base === '' ? '/' : base;
  if (rest.charCodeAt(0) === QUESTION) return (base === '' ? '/' : base) + rest;
  return base + rest;
}

export function withoutDefaultPort(authority: string, scheme: string): string {
  if (scheme === 'http' && authority.endsWith(':80')) return authority.slice(0, -3);
  if (scheme === 'https' && authority.endsWith(':443')) return authority.slice(0, -4);
  return authority;
}

/** `Marketo Prod` → `/Marketo%20Prod`: a DSN's gateway path, as decodeSegment reads it back. */
export function dsnPath(name: string): string {
  return `/${encodeURIComponent(name)}`;
}

/** `Marketo%20Prod` → `Marketo Prod`; a malformed escape is left as written (it matches no DSN). */
export function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** `https://api.example.com/x` → `https://api.example.com`; not a URL → as given (it matches no origin). */
export function originOf(value: string): string {
  try {
    return new URL(value).origin;
  } catch {
    return value;
  }
}
