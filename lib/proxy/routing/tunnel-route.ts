import { isIP } from 'node:net';
import { ConnectRefusedError, ForeignOriginError } from '../../errors.js';
import { parseConnectTarget } from '../connect/target.js';
import { checked, refuseTooManyHeaders, type RoutedRequest } from './route-request.js';
import { forwardTo, refuse, type Route } from './route.js';
import type { RouteTable } from './route-table.js';
import { forwardProxyTarget } from './targets.js';
import { findHost } from './url-parts.js';

/**
 * A CONNECT that carries plain HTTP: undici's ProxyAgent and EnvHttpProxyAgent (Node's fetch with
 * a proxy) open a tunnel for http:// URLs too. Its requests are the forward proxy's requests for
 * `http://<authority>`, so the same lookup decides which DSN's credential they get.
 */
export interface PlainTunnel {
  /** `api.example.com`, `127.0.0.1:8080`: as a forward-proxy URL names it (port 80 left out) */
  readonly authority: string;
  /** `host:port` as the CONNECT asked for it */
  readonly target: string;
}

/**
 * The tunnel's authority when `CONNECT host:port` is for a DSN's origin that speaks plain HTTP
 * there; undefined for TLS (port 443, or the port of a DSN's https origin: the CONNECT handler's
 * part) and for hosts no DSN names.
 */
export function plainHttpTunnel(target: string, table: RouteTable): PlainTunnel | undefined {
  const parsed = parseConnectTarget(target);
  if (parsed === undefined || parsed.port === 443) return undefined;
  const host = isIP(parsed.host) === 6 ? `[${parsed.host}]` : parsed.host;
  const authority = parsed.port === 80 ? host : `${host}:${parsed.port}`;
  const to = table.byAuthority(authority);
  if (to === undefined) return undefined;
  // an https origin on this very port: the client will speak TLS
  if (to.origin.startsWith('https:') && Number(new URL(to.origin).port || 443) === parsed.port)
    return undefined;
  return { authority, target };
}

/**
 * One request read from inside a plain tunnel: origin-form, for the tunnel's own host (RFC 9110
 * 7.4: 421 for any other, as inside an intercepted CONNECT), then routed as the forward proxy
 * routes `http://<authority><path>`. The table is the current one: a reload applies at once.
 */
export function routeTunnelledRequest(
  req: RoutedRequest,
  table: RouteTable,
  tunnel: PlainTunnel,
  gateway = '',
): Route {
  const tooMany = refuseTooManyHeaders({ req });
  if (tooMany !== undefined) return tooMany;
  const path = req.url ?? '/';
  if (path.charCodeAt(0) !== 47 /* / */) {
    return refuse(
      new ConnectRefusedError(
        'Inside a CONNECT tunnel, requests must use a path (origin-form), not an absolute URL.',
        { status: 400, target: tunnel.target },
      ),
    );
  }
  const host = (findHost(req.rawHeaders) ?? '').toLowerCase();
  if (host !== tunnel.authority && host !== `${tunnel.authority}:80`) {
    return refuse(
      new ConnectRefusedError(
        `This connection was opened for ${tunnel.target}; its requests must have that Host header.`,
        { status: 421, target: tunnel.target },
      ),
    );
  }
  const publicOrigin = `http://${tunnel.authority}`;
  const to = table.byAuthority(tunnel.authority);
  if (to === undefined) return refuse(new ForeignOriginError(publicOrigin, table.origins, gateway));
  const target = forwardProxyTarget(to, path, publicOrigin);
  return checked(forwardTo(target), req);
}
