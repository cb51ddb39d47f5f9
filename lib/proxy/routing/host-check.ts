import { networkInterfaces } from 'node:os';
import { isLoopbackHost } from '../../net/loopback.js';

/**
 * DNS rebinding defence: a web page whose name resolves to 127.0.0.1 reaches tokenshim with its
 * own name in Host. Only loopback names (127.0.0.0/8, localhost, [::1]), the address tokenshim
 * listens on and the names it was told (--accept-host) are answered; listening on all interfaces
 * also admits this machine's own addresses.
 * Results are cached per Host value: clients send the same one on every request.
 */
export class HostCheck {
  readonly #allowed = new Set<string>();
  readonly #cache = new Map<string, boolean>();

  /** `names`: more names of this machine clients use (--accept-host) */
  constructor(listenHost: string, names: readonly string[] = []) {
    const h = stripBrackets(listenHost.toLowerCase());
    this.#allowed.add(h);
    for (const name of names) this.#allowed.add(stripBrackets(name.toLowerCase()));
    if (h === '0.0.0.0' || h === '::') {
      for (const addresses of Object.values(networkInterfaces())) {
        for (const a of addresses ?? []) this.#allowed.add(a.address.toLowerCase());
      }
    }
  }

  allows(hostHeader: string | undefined): boolean {
    if (hostHeader === undefined) return false;
    const hit = this.#cache.get(hostHeader);
    if (hit !== undefined) return hit;
    const ok = this.#decide(hostHeader);
    if (this.#cache.size >= 256) this.#cache.clear();
    this.#cache.set(hostHeader, ok);
    return ok;
  }

  #decide(hostHeader: string): boolean {
    const value = hostHeader.trim().toLowerCase();
    // `127.0.0.1:8790@evil.example` names loopback up to its first colon; echoed into a rewritten
    // Location it would send the client to evil.example. Only a host and a port are a Host.
    if (!HOST_SYNTAX.test(value)) return false;
    const host = stripBrackets(hostOnly(value));
    // browsers resolve *.localhost to loopback themselves (RFC 6761 6.3): no page can rebind one
    return host.endsWith('.localhost') || this.#allowed.has(host) || isLoopbackHost(host);
  }
}

/** RFC 9110 7.2: uri-host [":" port], with a host name, an IPv4 address or a bracketed IPv6 one */
const HOST_SYNTAX = /^(?:\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::\d{1,5})?$/;

/** `[::1]:8790` → `[::1]`, `localhost:8790` → `localhost` */
function hostOnly(value: string): string {
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? value : value.slice(0, end + 1);
  }
  const colon = value.indexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
