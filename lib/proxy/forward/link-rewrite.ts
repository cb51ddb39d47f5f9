import { keptPairs } from '../../http/query-credential.js';

/**
 * Location, Content-Location and Link values (and, on the gateway and dedicated routes, URLs inside
 * JSON bodies: json-url-rewrite.ts) that point at the upstream are rewritten to the route the
 * client used, so a client following a redirect or a next-page link stays on the proxy (and the
 * credential is attached again there, never by following the redirect ourselves).
 */
export interface LinkRewrite {
  /** origin the request went to, as URL#origin spells it: `https://api.example.com` */
  readonly upstreamOrigin: string;
  /** the path prefix the route maps at the upstream (`/rest/v1`); '' maps every path */
  readonly upstreamBasePath: string;
  /** origin the client spoke to: `http://127.0.0.1:8790`, or `http://api.example.com` as a proxy */
  readonly publicOrigin: string;
  /** the client-side path prefix: `/<DSN>` on the gateway, '' elsewhere */
  readonly publicBasePath: string;
  /**
   * Query parameters that carry the DSN's credential (TokenPlacement=query:NAME, AuthParam): an
   * upstream that echoes its request URL into a next-page link would hand the token to the client,
   * and the proxy sets them again anyway. Dropped from every URL rewritten to the proxy.
   */
  readonly credentialParams?: readonly string[];
}

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;
/**
 * What may follow the origin for the URL parser to be unnecessary: plain URL characters, no dot
 * segments (`/.`, `%2e`) and no backslash, so the path as written is the path as parsed.
 */
const PLAIN_TAIL = /^(?:[/?#][A-Za-z0-9\-_~!$&'()*+,;=:@/?#%.]*)?$/;
const DOT_SEGMENT = /\/\.|%2e/i;
const LINK_TARGET = /<([^>]*)>/g;

export function rewriteUrl(value: string, r: LinkRewrite): string {
  if (value.charCodeAt(0) === 47 /* / */ && value.charCodeAt(1) !== 47) {
    const mapped = mapPath(value, r);
    return mapped === undefined ? value : publicPath(withoutCredentials(mapped, r), r);
  }
  if (!HAS_SCHEME.test(value) && !value.startsWith('//')) return value;
  // the common case (a server's own links) without a URL parser: JSON bodies hold thousands
  const origin = r.upstreamOrigin;
  if (value.startsWith(origin)) {
    const tail = value.slice(origin.length);
    if (PLAIN_TAIL.test(tail) && !DOT_SEGMENT.test(tail)) {
      const mapped = mapPath(tail === '' || tail.charCodeAt(0) !== 47 ? `/${tail}` : tail, r);
      return mapped === undefined
        ? value
        : r.publicOrigin + publicPath(withoutCredentials(mapped, r), r);
    }
  }
  let url: URL;
  try {
    url = new URL(value, r.upstreamOrigin);
  } catch {
    return value;
  }
  if (url.origin !== r.upstreamOrigin) return value;
  const mapped = mapPath(url.pathname, r);
  if (mapped === undefined) return value;
  return r.publicOrigin + publicPath(withoutCredentials(mapped + tailAsWritten(value, url), r), r);
}

/**
 * The query and fragment as the upstream wrote them when its path needed no normalising: a URL
 * parser percent-encodes `'` and others in a query, and a server may compare its paging tokens
 * byte for byte. A path with dot segments or escapes falls back to the parsed form.
 */
function tailAsWritten(value: string, url: URL): string {
  const slashes = value.indexOf('//');
  if (slashes === -1) return url.search + url.hash;
  let pathStart = slashes + 2;
  while (pathStart < value.length) {
    const c = value.charCodeAt(pathStart);
    if (c === 47 || c === 63 || c === 35) break;
    pathStart++;
  }
  let tail = pathStart;
  while (tail < value.length && value.charCodeAt(tail) !== 63 && value.charCodeAt(tail) !== 35)
    tail++;
  const rawPath = value.slice(pathStart, tail);
  if (rawPath !== url.pathname && !(rawPath === '' && url.pathname === '/'))
    return url.search + url.hash;
  return value.slice(tail);
}

function withoutCredentials(pathAndQuery: string, r: LinkRewrite): string {
  const names = r.credentialParams;
  if (names === undefined || names.length === 0) return pathAndQuery;
  const q = pathAndQuery.indexOf('?');
  if (q === -1) return pathAndQuery;
  const hash = pathAndQuery.indexOf('#', q);
  const end = hash === -1 ? pathAndQuery.length : hash;
  const kept = keptPairs(pathAndQuery.slice(q + 1, end), (name) => names.includes(name));
  return pathAndQuery.slice(0, q) + (kept === '' ? '' : `?${kept}`) + pathAndQuery.slice(end);
}

function publicPath(mapped: string, r: LinkRewrite): string {
  if (r.publicBasePath === '' && mapped.charCodeAt(0) !== 47) return `/${mapped}`;
  return r.publicBasePath + mapped;
}

/** The part of an upstream path after the route's base path; undefined when outside it. */
function mapPath(pathAndQuery: string, r: LinkRewrite): string | undefined {
  const base = r.upstreamBasePath;
  if (base === '') return pathAndQuery;
  if (!pathAndQuery.startsWith(base)) return undefined;
  const next = pathAndQuery.charCodeAt(base.length);
  // `/rest/v1`, `/rest/v1/x`, `/rest/v1?q` are inside; `/rest/v10` is not
  if (Number.isNaN(next) || next === 47 || next === 63 || next === 35) {
    return pathAndQuery.slice(base.length);
  }
  return undefined;
}

/** RFC 8288 Link: every `<target>` is rewritten, parameters kept. */
export function rewriteLinkHeader(value: string, r: LinkRewrite): string {
  return value.replace(LINK_TARGET, (_m, target: string) => `<${rewriteUrl(target, r)}>`);
}
