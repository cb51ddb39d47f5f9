import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_TOKEN_SECONDS } from '../demo/demo-token-ledger.js';
import { startDemoServers, type DemoServers } from '../demo/demo-servers.js';
import { PROXY_DEFAULTS } from '../proxy/defaults.js';
import type { TokenshimServer } from '../proxy/server.js';
import { defineCommand, runCommand, type CommandOptions, type CommandValues } from './command.js';
import { EXIT, wholeNumberOption } from './io.js';
import { runServe, type ServeIo } from './serve.js';

const DEMO_OPTIONS = {
  port: {
    type: 'string',
    value: 'N',
    help: `tokenshim's port (default ${PROXY_DEFAULTS.port})`,
  },
  'token-seconds': {
    type: 'string',
    value: 'N',
    help: `how long the demo's access tokens live (default ${DEMO_TOKEN_SECONDS})`,
  },
} as const satisfies CommandOptions;

/** `tokenshim demo` (and `npm start`); `seams` as for serve (tests pass signals and onListening). */
export function demoCommand(seams: Pick<ServeIo, 'signals' | 'onListening' | 'platform'> = {}) {
  return defineCommand({
    name: 'demo',
    usage: '[--port N] [--token-seconds N]',
    about: `
Shows what tokenshim is for, with nothing to configure and no network: it starts a demo OAuth
server (short-lived access tokens, rotating refresh tokens) and a demo API that accepts only live
tokens, both on 127.0.0.1, and runs tokenshim serve in front of them with a DSN named "demo".
It prints a curl command to try; the status page shows tokenshim refreshing the token as you
watch. Ctrl+C stops everything and removes the demo's files.`,
    options: DEMO_OPTIONS,
    exitStatus:
      '0 after Ctrl+C (as serve), 1 on a runtime failure, 2 for usage errors or a port in use.',
    run: ({ values }, io) => demo(values, { ...io, ...seams }),
  });
}

export function runDemo(argv: string[], io: ServeIo): Promise<number> {
  return runCommand(demoCommand(io), argv, io);
}

export const DEMO_DSN = 'demo';

/** Resolves with serve's exit code once it has shut down. */
async function demo(values: CommandValues<typeof DEMO_OPTIONS>, io: ServeIo): Promise<number> {
  const port = values.port ?? String(PROXY_DEFAULTS.port);
  const tokenSeconds =
    values['token-seconds'] === undefined
      ? DEMO_TOKEN_SECONDS
      : wholeNumberOption('--token-seconds', values['token-seconds'], 2, 86_400);
  let gateway: string | undefined;
  const servers = await startDemoServers({ tokenSeconds, gatewayUrl: () => gateway });
  const dir = await mkdtemp(join(tmpdir(), 'tokenshim-demo-'));
  try {
    const ini = join(dir, 'odbc.ini');
    // 0600 like any odbc.ini holding a secret, so the demo starts without the world-readable warning
    await writeFile(ini, servers.dsnSection(DEMO_DSN), { mode: 0o600 });
    let listened = false;
    const code = await runServe(['--config', ini, '--port', port], {
      ...io,
      onListening: (server) => {
        listened = true;
        gateway = server.dsnUrl(DEMO_DSN);
        io.stdout.write(demoBanner(server, servers, ini, io.platform ?? process.platform));
        io.onListening?.(server);
      },
    });
    if (!listened && code !== EXIT.OK) {
      io.stderr.write(
        `tokenshim demo: if port ${port} is taken, run tokenshim demo --port N with another one\n`,
      );
    }
    return code;
  } finally {
    await servers.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function demoBanner(
  server: TokenshimServer,
  demo: DemoServers,
  ini: string,
  platform: NodeJS.Platform,
): string {
  const gateway = server.dsnUrl(DEMO_DSN)!;
  const curl = platform === 'win32' ? 'curl.exe' : 'curl';
  return `
  *** tokenshim DEMO ***  everything below runs on this machine, on 127.0.0.1 only
  demo OAuth server  ${demo.tokenUrl}  access tokens live ${demo.ledger.lifetimeSeconds} s, refresh tokens rotate
  demo API           ${demo.apiUrl}  answers only requests with a live token
  its DSN            ${ini}  (removed when the demo stops)

  Call the API through tokenshim, which attaches a fresh token:
    ${curl} ${gateway}/orders
  Call it directly, without a token, and it refuses (401):
    ${curl} ${demo.apiUrl}/orders
  Watch tokenshim refresh the token every ${demo.ledger.lifetimeSeconds} s or so (the page reloads itself):
    ${server.url}/_tokenshim/status

  Ctrl+C stops the demo. For your own APIs: tokenshim serve --config odbc.ini (see the README).

`;
}
