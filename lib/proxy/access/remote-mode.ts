import { hostname } from 'node:os';
import type { DsnConfig } from '../../config/dsn.js';
import { ConfigError } from '../../errors.js';

/**
 * `--allow-remote`: whoever reaches the port could otherwise use every DSN's credential. Every DSN
 * must then require its clients to present a ClientKey; a configuration (at start or on reload)
 * with a DSN that does not is refused, naming the DSNs.
 */
export function requireClientKeys(dsns: readonly DsnConfig[]): void {
  const open = dsns.filter((d) => d.clientKey === undefined).map((d) => `"${d.name}"`);
  if (open.length === 0) return;
  throw new ConfigError(
    `--allow-remote: DSN ${open.join(', ')} ${open.length === 1 ? 'has' : 'have'} no ClientKey, so anyone ` +
      "who reaches tokenshim's port could use the credential. Add ClientKey=<at least 16 random " +
      'characters> to each (clients send it as the password of HTTP Basic, any user name, or in ' +
      'X-Tokenshim-Key), or drop --allow-remote.',
  );
}

/**
 * The names clients may use for this machine in Host, besides loopback and the listen address:
 * the `--accept-host` names and, when other machines may call, the machine's own name.
 */
export function acceptedHostNames(
  acceptHosts: readonly string[],
  allowRemote: boolean,
  machineName: () => string = hostname,
): string[] {
  const names = acceptHosts.map((h) => h.trim().toLowerCase());
  if (allowRemote) names.push(machineName().toLowerCase());
  return names;
}
