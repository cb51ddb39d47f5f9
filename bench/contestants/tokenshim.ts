import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcesses, NodeChild } from '../child-processes.js';
import type { UpstreamReady } from '../upstream-process.js';
import type { ProxyReady } from './tokenshim-process.js';

const PROCESS = fileURLToPath(new URL('./tokenshim-process.js', import.meta.url));

/**
 * A DSN section for the bench: client credentials (53) against the local OAuth server. With
 * `https`, the upstream is https://localhost:<port> and tokenshim intercepts CONNECTs to it.
 */
export function benchDsnSection(
  name: string,
  tokenEndpoint: string,
  upstream: UpstreamReady,
  https?: { trustStore: string },
): string {
  return [
    `[${name}]`,
    'AuthenticationMethod=53',
    `ClientID=${upstream.clientId}`,
    `ClientSecret=${upstream.clientSecret}`,
    // client_secret_post, which the server registered for this client
    'ClientCredentialsMode=3',
    `TokenURI=POST ${tokenEndpoint}`,
    ...(https
      ? [
          `HostName=https://localhost:${upstream.httpsPort}`,
          `TrustStore=${https.trustStore}`,
          'InterceptTLS=1',
        ]
      : [`HostName=http://127.0.0.1:${upstream.upstreamPort}`]),
    '',
  ].join('\n');
}

/** node flags for every tokenshim process the bench starts (`--node-flags`), as NODE_OPTIONS would */
let nodeFlags: readonly string[] = [];

export function useTokenshimNodeFlags(flags: readonly string[]): void {
  nodeFlags = flags;
}

/**
 * Writes an odbc.ini with `sections` into `dir` and starts tokenshim on it in its own process;
 * with `profileDir`, under `node --cpu-prof` (the profile is written when it closes).
 */
export async function startTokenshimProcess(
  children: ChildProcesses,
  dir: string,
  sections: readonly string[],
  profile?: { dir: string; name: string },
  env?: NodeJS.ProcessEnv,
): Promise<NodeChild<ProxyReady>> {
  const ini = join(dir, 'odbc.ini');
  writeFileSync(ini, sections.join('\n'), { mode: 0o600 });
  const execArgv = [
    ...nodeFlags,
    ...(profile
      ? ['--cpu-prof', '--cpu-prof-dir', profile.dir, '--cpu-prof-name', profile.name]
      : []),
  ];
  return children.fork<ProxyReady>(PROCESS, [ini], { execArgv, ...(env ? { env } : {}) });
}
