import { isLoopbackHost } from '../net/loopback.js';
import { PROXY_DEFAULTS } from '../proxy/defaults.js';
import type { CommandOptions } from './command.js';
import { UsageError, wholeNumberOption } from './io.js';

/**
 * Where serve listens, who may reach it and how long clients may dawdle: flags `tokenshim serve`
 * takes and `tokenshim service install` passes on to the serve it registers, written once.
 */
export const SERVE_NETWORK_OPTIONS = {
  host: {
    type: 'string',
    value: 'ADDRESS',
    help: `address to listen on (default ${PROXY_DEFAULTS.host})`,
  },
  'allow-remote': {
    type: 'boolean',
    default: false,
    help: 'serve other machines too: every DSN must then have a ClientKey',
  },
  'accept-host': {
    type: 'string',
    multiple: true,
    value: 'NAME',
    help: 'a name clients use for this machine (tokenshim.corp.example), accepted in Host;\nrepeatable',
  },
  'client-headers-timeout': {
    type: 'string',
    value: 'N',
    help: `seconds a client has to send a request's headers; silent and slowloris connections are closed (default ${PROXY_DEFAULTS.clientHeadersTimeoutMs / 1000})`,
  },
  'client-idle-timeout': {
    type: 'string',
    value: 'N',
    help: `seconds a client connection may stay silent between requests or in the middle of a request body (default ${PROXY_DEFAULTS.clientIdleTimeoutMs / 1000})`,
  },
} as const satisfies CommandOptions;

export interface NetworkValues {
  readonly host?: string | undefined;
  readonly 'allow-remote'?: boolean | undefined;
  readonly 'accept-host'?: readonly string[] | undefined;
  readonly 'client-headers-timeout'?: string | undefined;
  readonly 'client-idle-timeout'?: string | undefined;
}

export interface NetworkSettings {
  readonly host: string;
  readonly allowRemote: boolean;
  readonly acceptHosts: readonly string[];
  readonly clientTimeouts: { readonly headersMs?: number; readonly idleMs?: number };
}

/** The flags checked together, each bad one a UsageError naming it and the fix. */
export function networkSettings(values: NetworkValues): NetworkSettings {
  const clientTimeouts = {
    ...secondsOption('--client-headers-timeout', values['client-headers-timeout'], 'headersMs'),
    ...secondsOption('--client-idle-timeout', values['client-idle-timeout'], 'idleMs'),
  };
  const host = values.host ?? PROXY_DEFAULTS.host;
  const allowRemote = values['allow-remote'] === true;
  if (!isLoopbackHost(host) && !allowRemote) {
    throw new UsageError(
      `--host ${host} lets other machines reach tokenshim; add --allow-remote (every DSN then needs a ClientKey) if that is intended`,
    );
  }
  const acceptHosts = values['accept-host'] ?? [];
  for (const name of acceptHosts) {
    if (!/^(?:[a-z0-9._-]+|\[[0-9a-f:.]+\])$/i.test(name)) {
      throw new UsageError(
        `--accept-host ${name} is not a host name: give the name alone, without scheme or port (--accept-host tokenshim.corp.example)`,
      );
    }
  }
  return { host, allowRemote, acceptHosts, clientTimeouts };
}

/** `--client-idle-timeout 30` as `{ idleMs: 30000 }`; nothing when the flag is absent. */
function secondsOption<K extends string>(
  name: string,
  value: string | undefined,
  key: K,
): Partial<Record<K, number>> {
  if (value === undefined) return {};
  return { [key]: wholeNumberOption(name, value, 1, 86_400) * 1000 } as Partial<Record<K, number>>;
}
