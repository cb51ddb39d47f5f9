import { createRequire } from 'node:module';
import { PROXY_DEFAULTS } from '../proxy/defaults.js';
import { parseAndRun, type CliCommand } from './command.js';
import { reportCommandErrors } from './command-errors.js';
import { EXIT, type CliIo } from './io.js';

/** A command as `tokenshim --help` lists it; its options, help and run load with `load`. */
export interface CommandEntry {
  readonly name: string;
  /** one line for `tokenshim --help` */
  readonly summary: string;
  load(): Promise<CliCommand>;
}

// Adding a command is one entry here (and its module, which exports a defineCommand(...)).
// Commands load on demand: `tokenshim serve` should not carry the login flow's browser opener or
// the CA's certificate library in memory.
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'serve',
    summary: `run the proxy (default ${PROXY_DEFAULTS.host}:${PROXY_DEFAULTS.port})`,
    load: async () => (await import('./serve.js')).serveCommand(),
  },
  {
    name: 'check',
    summary: 'validate the configuration and show each DSN',
    load: async () => (await import('./check.js')).checkCommand,
  },
  {
    name: 'login',
    summary: 'log in (browser with PKCE, pasted address, or device code) and store a refresh token',
    load: async () => (await import('./login.js')).loginCommand(),
  },
  {
    name: 'logout',
    summary: "revoke a DSN's tokens (RevokeURI) and clear them from its token store",
    load: async () => (await import('./logout.js')).logoutCommand(),
  },
  {
    name: 'token',
    summary: 'print a valid access token for a DSN (for scripts)',
    load: async () => (await import('./token.js')).tokenCommand(),
  },
  {
    name: 'service',
    summary: 'install, remove, start, stop or check tokenshim as a Windows service or systemd unit',
    load: async () => (await import('./service.js')).serviceCommand(),
  },
  {
    name: 'demo',
    summary: 'run a self-contained demo: a local OAuth server and API behind tokenshim (offline)',
    load: async () => (await import('./demo.js')).demoCommand(),
  },
  {
    name: 'reload',
    summary: 're-read the configuration of the running proxy (the way on Windows)',
    load: async () => (await import('./reload-command.js')).reloadCommand,
  },
  {
    name: 'ca',
    summary: 'create or locate the local CA for HTTPS through the proxy',
    load: async () => (await import('./ca.js')).caCommand,
  },
  {
    name: 'protect',
    summary: 'encrypt a secret with Windows DPAPI as a ${dpapi:...} value',
    load: async () => (await import('./protect.js')).protectCommand(),
  },
];

export const MAIN_HELP = (): string => `Usage: tokenshim <command> [options]

A local HTTP proxy that makes any REST client speak OAuth 2.0, configured with DataDirect
Autonomous REST Connector options (odbc.ini or a connection string).

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join('\n')}

Run tokenshim <command> --help for a command's options.
  --version   print the version
`;

export function version(): string {
  const require = createRequire(import.meta.url);
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      return (require(candidate) as { version: string }).version;
    } catch {
      // dist/lib/cli is one level deeper than lib/cli
    }
  }
  return 'unknown';
}

/** `tokenshim <command> ...`: resolves with the exit code; failures are reported here, once. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(MAIN_HELP());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${version()}\n`);
    return EXIT.OK;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`tokenshim: unknown command "${name}"\n\n${MAIN_HELP()}`);
    return EXIT.USAGE;
  }
  return reportCommandErrors(name, io, async () => parseAndRun(await entry.load(), rest, io));
}
