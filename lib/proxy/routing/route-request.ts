import type { IncomingMessage } from 'node:http';
import {
  ConfigError,
  ForeignOriginError,
  HostNotAllowedError,
  MethodRefusedError,
  TooManyHeadersError,
  UnknownDsnError,
  type TokenshimError,
} from '../../errors.js';
import { findHeader } from '../../http/raw-headers.js';
import { PROXY_DEFAULTS } from '../defaults.js';
import type { ExchangeTarget } from '../forward/exchange.js';
import type { HostCheck } from './host-check.js';
import { judgeCrossSite } from './cross-site.js';
import { forwardTo, refuse, type ForwardRoute, type Route } from './route.js';
import type { RouteTable } from './route-table.js';
import { dedicatedTarget, forwardProxyTarget, gatewayTarget, originTarget } from './targets.js';
import {
  decodeSegment,
  explicitPort,
  findHost,
  firstSegmentEnd,
  originOf,
  splitAbsoluteForm,
} from './url-parts.js';

/**
 * How tokenshim decides what a request is: an ordered list of small passes, each of which either
 * decides (a Route) or passes the request on. Pure: no sockets, no I/O, no state but the route
 * table, so each pass and the order are tested without a server (test/proxy/routing/).
 */

/** What routing reads of a request: its method, target and raw header list, nothing else. */
export type RoutedRequest = Pick<IncomingMessage, 'url' | 'rawHeaders'> & {
  /** absent in routing's own tests: GET */
  readonly method?: string | undefined;
};

/** The listener a request arrived on, as routing sees it. */
export interface RoutingListener {
  /** its port: an absolute-form URL naming it (and a loopback host) is a request to tokenshim itself */
  readonly port: number;
  /** the DSN a ListenPort listener serves; undefined on the main (gateway) port */
  readonly dsnName: string | undefined;
  /** which Host values name this machine (DNS rebinding) */
  readonly hostCheck: HostCheck;
  /** tokenshim's gateway origin (`http://127.0.0.1:8790`), for refusals that point at it */
  readonly gateway: () => string;
  /** what the client speaks to this listener; absent: http */
  readonly scheme?: 'http' | 'https';
}

/** One request on its way through the passes; a pass that does not decide may refine it. */
export interface RoutingRequest {
  readonly req: RoutedRequest;
  readonly listener: RoutingListener;
  readonly table: RouteTable;
  /** the origin-form path and query (for an absolute-form URL naming tokenshim: its path) */
  path: string;
  /** the origin the client believes it talks to; '' until Host (or the URL's authority) is accepted */
  publicOrigin: string;
}

/** Decides, or returns undefined to let the next pass look. */
export type RoutingPass = (r: RoutingRequest) => Route | undefined;

/** A refusal for a request already bound for a DSN, or undefined to let it through. */
export type ForwardCheck = (
  target: ExchangeTarget,
  req: RoutedRequest,
) => TokenshimError | undefined;

const MAX_RAW_HEADERS = PROXY_DEFAULTS.maxHeaderCount * 2;
const ABSOLUTE_FORM = /^https?:\/\//i;

/** Also used inside CONNECT tunnels (tunnel-route.ts), where only the request is known. */
export const refuseTooManyHeaders = ({ req }: Pick<RoutingRequest, 'req'>): Route | undefined =>
  req.rawHeaders.length > MAX_RAW_HEADERS
    ? refuse(new TooManyHeadersError(req.rawHeaders.length / 2, PROXY_DEFAULTS.maxHeaderCount))
    : undefined;

/**
 * `GET http://api.example.com/x` is tokenshim used as HTTP_PROXY: the URL names the origin, so the
 * Host header says nothing more and is not consulted. A URL naming tokenshim itself is taken as its
 * path (RFC 9112 3.2.2: a server must accept the absolute form of its own URLs) and goes on through
 * the passes. Any other target form (`*`, a bare authority) names no DSN.
 */
export const routeAbsoluteForm: RoutingPass = (r) => {
  const url = r.path;
  if (url.charCodeAt(0) === 47 /* / */) return undefined;
  if (!ABSOLUTE_FORM.test(url)) return refuse(new UnknownDsnError(url, r.table.names));
  const { scheme, authority, path } = splitAbsoluteForm(url);
  const publicOrigin = `${scheme}://${authority}`;
  if (explicitPort(authority) === r.listener.port && r.listener.hostCheck.allows(authority)) {
    r.path = path;
    r.publicOrigin = publicOrigin;
    return undefined;
  }
  const to = r.table.byAuthority(authority);
  if (!to)
    return refuse(new ForeignOriginError(publicOrigin, r.table.origins, r.listener.gateway()));
  return forwardTo(forwardProxyTarget(to, path, publicOrigin));
};

/**
 * DNS rebinding: a web page whose own name resolves to 127.0.0.1 reaches tokenshim with that name in
 * Host. Only names of this machine are answered (lib/proxy/routing/host-check.ts).
 */
export const refuseForeignHost: RoutingPass = (r) => {
  if (r.publicOrigin !== '') return undefined;
  const host = findHost(r.req.rawHeaders);
  if (!r.listener.hostCheck.allows(host)) return refuse(new HostNotAllowedError(host ?? '(none)'));
  r.publicOrigin = `${r.listener.scheme ?? 'http'}://${host}`;
  return undefined;
};

/** Everything on a DSN's ListenPort is that DSN's, `/_tokenshim/...` included: paths are the API's. */
export const routeDedicatedPort: RoutingPass = (r) => {
  const name = r.listener.dsnName;
  if (name === undefined) return undefined;
  const binding = r.table.byName(name);
  if (!binding) return refuse(new UnknownDsnError(name, r.table.names));
  return forwardTo(dedicatedTarget(binding, r.path, r.publicOrigin));
};

/** tokenshim's own routes; no web page may call them (lib/proxy/routing/cross-site.ts). */
export const routeAdmin: RoutingPass = (r) => {
  if (!r.path.startsWith(PROXY_DEFAULTS.adminPrefix)) return undefined;
  const path = r.path.slice(PROXY_DEFAULTS.adminPrefix.length);
  const { refusal } = judgeCrossSite(r.req.rawHeaders, NO_ORIGINS, {
    route: `the admin route /_tokenshim/${pathOnly(path)}`,
  });
  return refusal === undefined ? { kind: 'admin', path } : refuse(refusal);
};

const NO_ORIGINS: readonly string[] = Object.freeze([]);

function pathOnly(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf('?');
  return q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
}

/** `/<DSN>/<path>`: the first segment names the DSN (case-insensitively, percent-decoded). */
export const routeGatewaySegment: RoutingPass = (r) => {
  const end = firstSegmentEnd(r.path);
  const segment = r.path.slice(1, end);
  const name = decodeSegment(segment);
  const binding = r.table.byName(name);
  if (!binding) return refuse(new UnknownDsnError(name, r.table.names));
  return forwardTo(gatewayTarget(binding, segment, r.path.slice(end), r.publicOrigin));
};

/**
 * The order is the security argument, so it is written here once:
 * 1. the header count first: nothing may read an oversized header list;
 * 2. the absolute form before the Host check: a forward-proxy request is judged by the origin its
 *    URL names (a DSN's, or refused), and its Host header is the upstream's, never loopback;
 * 3. the Host check before anything that answers from this machine (DNS rebinding);
 * 4. a dedicated port before the admin prefix: on a DSN's ListenPort every path is the API's;
 * 5. the admin prefix before the gateway: `/_tokenshim` is never a DSN name;
 * 6. the gateway segment last: whatever is left names a DSN, or gets the list of DSNs.
 */
const PASSES: readonly RoutingPass[] = [
  refuseTooManyHeaders,
  routeAbsoluteForm,
  refuseForeignHost,
  routeDedicatedPort,
  routeAdmin,
  routeGatewaySegment,
];

/** A DSN without HostName has nowhere to forward to. */
export const refuseWithoutUpstream: ForwardCheck = (target) =>
  target.origin === ''
    ? new ConfigError(
        `DSN "${target.binding.dsn.name}" has no HostName: set HostName to the API's base URL.`,
      )
    : undefined;

/**
 * A request a web page made the browser send, from an origin not on the DSN's AllowedOrigins
 * (lib/proxy/routing/cross-site.ts). Gateway, dedicated port, forward proxy and decrypted CONNECT
 * requests all come through here.
 */
export const refuseCrossSite: ForwardCheck = (target, req) => {
  const dsn = target.binding.dsn;
  return judgeCrossSite(req.rawHeaders, dsn.browserOrigins, {
    route: `DSN "${dsn.name}"`,
    dsn: dsn.name,
  }).refusal;
};

/** Methods whose answer echoes the request, the credential tokenshim attached included. */
const ECHOING_METHODS = new Set(['TRACE', 'TRACK']);

export const refuseEchoingMethods: ForwardCheck = (target, req) => {
  const method = req.method?.toUpperCase();
  return method !== undefined && ECHOING_METHODS.has(method)
    ? new MethodRefusedError(method, target.binding.dsn.name)
    : undefined;
};

/** Checks every forwarded request passes once its DSN is known, whichever route found it. */
const FORWARD_CHECKS: readonly ForwardCheck[] = [
  refuseWithoutUpstream,
  refuseEchoingMethods,
  refuseCrossSite,
];

export function routeRequest(
  req: RoutedRequest,
  listener: RoutingListener,
  table: RouteTable,
): Route {
  const r: RoutingRequest = { req, listener, table, path: req.url ?? '/', publicOrigin: '' };
  for (const pass of PASSES) {
    const route = pass(r);
    if (route !== undefined) return route.kind === 'forward' ? checked(route, req) : route;
  }
  return refuse(new UnknownDsnError(r.path, table.names));
}

/**
 * A request bound for a DSN, as every route that forwards one ends (gateway, dedicated port,
 * forward proxy, decrypted and plain CONNECT): the forward checks, then CORS for AllowedOrigins.
 */
export function checked(route: ForwardRoute, req: RoutedRequest): Route {
  for (const check of FORWARD_CHECKS) {
    const error = check(route.target, req);
    if (error !== undefined) return refuse(error);
  }
  const origins = route.target.binding.dsn.browserOrigins;
  return origins.length === 0 ? route : withCors(route, req, origins);
}

/**
 * A page of an AllowedOrigins origin: its CORS preflight is answered by tokenshim itself (the
 * upstream's answer would describe the upstream's own policy, and the credential is tokenshim's to
 * attach), and its other requests go upstream with the origin noted, for the CORS response headers.
 */
function withCors(route: ForwardRoute, req: RoutedRequest, origins: readonly string[]): Route {
  const origin = findHeader(req.rawHeaders, 'origin');
  if (origin === undefined || !origins.includes(origin)) return route;
  const requestMethod = findHeader(req.rawHeaders, 'access-control-request-method');
  if (req.method === 'OPTIONS' && requestMethod !== undefined) {
    return {
      kind: 'preflight',
      dsn: route.target.binding.dsn.name,
      origin,
      requestMethod,
      requestHeaders: findHeader(req.rawHeaders, 'access-control-request-headers'),
      privateNetwork:
        findHeader(req.rawHeaders, 'access-control-request-private-network') === 'true',
    };
  }
  return forwardTo({ ...route.target, corsOrigin: origin });
}

export interface DsnRequestOptions {
  /** origin to call: the DSN's upstream (default) or one of its AllowedHosts */
  origin?: string;
  /** origin the client believes it talks to, for Location/Link rewriting; default `origin` */
  publicOrigin?: string;
}

/**
 * A request already known to be for `dsn` (a decrypted CONNECT request): `upstreamPath` is the
 * path and query at the origin. The origin must be one the DSN's credentials may go to.
 */
export function routeDsnRequest(
  req: RoutedRequest,
  table: RouteTable,
  dsn: string,
  upstreamPath: string,
  opts: DsnRequestOptions = {},
  gateway = '',
): Route {
  const binding = table.byName(dsn);
  if (!binding) return refuse(new UnknownDsnError(dsn, table.names));
  const origin = opts.origin === undefined ? binding.upstreamOrigin : originOf(opts.origin);
  if (!binding.credentialOrigins.includes(origin)) {
    return refuse(
      new ForeignOriginError(opts.origin ?? origin, binding.credentialOrigins, gateway),
    );
  }
  const target = originTarget(binding, origin, upstreamPath, opts.publicOrigin ?? origin);
  return checked(forwardTo(target), req);
}
