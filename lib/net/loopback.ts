import { isIP } from 'node:net';

/**
 * Whether a host name or literal address (as written in a URL, a Host header or --host) names
 * this machine: `localhost`, 127.0.0.0/8 or ::1, with or without IPv6 brackets. Only literals and
 * the one name every resolver maps to loopback count; `*.localhost` is left to callers that know
 * who resolved it (a browser does it itself, RFC 6761 6.3; node's listen() asks the system).
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/**
 * Whether a socket's peer address (`socket.remoteAddress`) is loopback; on a dual-stack listener
 * IPv4 peers appear as IPv4-mapped IPv6 (`::ffff:127.0.0.1`).
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
