/**
 * Location, Content-Location and Link values that point at the upstream are rewritten to the route
 * the client used, so a client following a redirect or a next-page link stays on the proxy (and the
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
}

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const LINK_TARGET = /<([^>]*)>/g;

export function rewriteUrl(value: string, r: LinkRewrite): string {
  if (value.charCodeAt(0) === 47 /* / */ && value.charCodeAt(1) !== 47) {
    const mapped = mapPath(value, r);
    return mapped === undefined ? value : publicPath(mapped, r);
  }
  if (!HAS_SCHEME.test(value) && !value.startsWith('//')) return value;
  let url: URL;
  try {
    url = new URL(value, r.upstreamOrigin);
  } catch {
    return value;
  }
  if (url.origin !== r.upstreamOrigin) return value;
  const mapped = mapPath(url.pathname, r);
  if (mapped === undefined) return value;
  return r.publicOrigin + publicPath(mapped, r) + url.search + url.hash;
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
