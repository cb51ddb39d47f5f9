import { PROXY_DEFAULTS } from '../proxy/defaults.js';
import { wholeNumberOption } from './io.js';

/**
 * `--port N` of a command that talks about a `tokenshim serve` rather than starting one (reload
 * asks it, check prints its URLs): the port it listens on.
 */
export const SERVE_PORT_OPTION = {
  port: {
    type: 'string',
    value: 'N',
    help: `the port tokenshim serve listens on (default ${PROXY_DEFAULTS.port})`,
  },
} as const;

export function servePort(value: string | undefined): number {
  return value === undefined ? PROXY_DEFAULTS.port : wholeNumberOption('--port', value, 1, 65535);
}
