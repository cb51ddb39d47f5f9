import type { DsnBinding } from '../dsn-binding.js';
import type { ExchangeTarget } from '../forward/exchange.js';
import type { ForwardOrigin } from './route-table.js';
import { joinPath } from './url-parts.js';

/*
 * The only places an ExchangeTarget is built: one function per way a request can name a DSN.
 * Each says which upstream path the client's path maps to and how the upstream's own URLs
 * (Location, Link) map back to what the client used.
 */

/** `http://127.0.0.1:8790/<segment><rest>` → `<HostName><rest>` */
export function gatewayTarget(
  binding: DsnBinding,
  segment: string,
  rest: string,
  publicOrigin: string,
): ExchangeTarget {
  return hostNameTarget(binding, rest, publicOrigin, `/${segment}`);
}

/** `http://127.0.0.1:<ListenPort><path>` → `<HostName><path>` */
export function dedicatedTarget(
  binding: DsnBinding,
  path: string,
  publicOrigin: string,
): ExchangeTarget {
  return hostNameTarget(binding, path, publicOrigin, '');
}

/** The DSN's HostName with the client's path under its base path; `publicBasePath` maps back. */
function hostNameTarget(
  binding: DsnBinding,
  path: string,
  publicOrigin: string,
  publicBasePath: string,
): ExchangeTarget {
  return {
    binding,
    origin: binding.upstreamOrigin,
    host: binding.upstreamHost,
    path: joinPath(binding.upstreamBasePath, path),
    upstreamBasePath: binding.upstreamBasePath,
    publicOrigin,
    publicBasePath,
    // only the gateway and dedicated routes map upstream URLs in bodies: a forward-proxy client
    // already speaks to the upstream's own origin
    rewriteBodyUrls: binding.dsn.rewriteBodyUrls,
  };
}

/**
 * `GET http://api.example.com/x` (tokenshim as HTTP_PROXY) → the DSN origin claiming that
 * authority, over https when the DSN's HostName is: the path is the client's, unmapped.
 */
export function forwardProxyTarget(
  to: ForwardOrigin,
  path: string,
  publicOrigin: string,
): ExchangeTarget {
  return {
    binding: to.binding,
    origin: to.origin,
    host: to.host,
    path,
    upstreamBasePath: '',
    publicOrigin,
    publicBasePath: '',
  };
}

/**
 * One of the binding's own origins (its HostName or an AllowedHosts entry) with a path at that
 * origin, as a decrypted CONNECT request names it; the base path is not prepended.
 */
export function originTarget(
  binding: DsnBinding,
  origin: string,
  path: string,
  publicOrigin: string,
): ExchangeTarget {
  return {
    binding,
    origin,
    host: origin === binding.upstreamOrigin ? binding.upstreamHost : new URL(origin).host,
    path: path.charCodeAt(0) === 47 /* / */ ? path : `/${path}`,
    upstreamBasePath: '',
    publicOrigin,
    publicBasePath: '',
  };
}
