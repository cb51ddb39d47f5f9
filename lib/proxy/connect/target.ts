import { isIP } from 'node:net';
import type { DsnConfig } from '../../config/dsn.js';

/** `host:port` or `[v6]:port` into its parts; host names are lower-cased. */
export function parseConnectTarget(target: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/?#@[\]]+)):(\d{1,5})$/.exec(target);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  const v6 = match[1];
  if (v6 !== undefined) return isIP(v6) === 6 ? { host: v6.toLowerCase(), port } : undefined;
  return { host: (match[2] ?? '').toLowerCase(), port };
}

/** `https://host[:port]` as URL.origin writes it (default port dropped, IPv6 bracketed) */
export function httpsOrigin(host: string, port: number): string {
  return new URL(`https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`).origin;
}

/**
 * The DSN that may receive credentials for `https://host:port`: its HostName or one of its
 * AllowedHosts has that origin. An InterceptTLS=1 DSN wins; among those, one whose HostName
 * matches wins over one that only allows the host, then the first in the config.
 *
 * Not RouteTable's authority index, on purpose: that one serves absolute-form http:// requests, so
 * it ignores the scheme (http://api.example.com goes to an https HostName) and lets the first DSN
 * claiming an authority win. A CONNECT is TLS: only https origins can match (an http:// HostName
 * is never intercepted), and the DSN that intercepts must win over one that merely names the host.
 */
export function matchDsnByHostPort(
  dsns: readonly DsnConfig[],
): (host: string, port: number) => DsnConfig | undefined {
  return (host, port) => {
    let origin: string;
    try {
      origin = httpsOrigin(host, port);
    } catch {
      return undefined;
    }
    let best: DsnConfig | undefined;
    let bestRank = 0;
    for (const dsn of dsns) {
      const upstream = dsn.upstream?.protocol === 'https:' && dsn.upstream.origin === origin;
      if (!upstream && !dsn.credentialOrigins.includes(origin)) continue;
      const rank = (dsn.interceptTls ? 2 : 0) + (upstream ? 1 : 0);
      if (rank > bestRank || best === undefined) {
        best = dsn;
        bestRank = rank;
      }
    }
    return best;
  };
}

/**
 * TunnelOtherHosts is written in a DSN section (odbc.ini has no section for the proxy itself) but
 * it is a property of the listener: set on any DSN, it lets every non-intercepted CONNECT through.
 */
export function tunnelOtherHostsEnabled(dsns: readonly DsnConfig[]): boolean {
  return dsns.some((dsn) => dsn.tunnelOtherHosts);
}
