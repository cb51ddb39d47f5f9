import { createRequire } from 'node:module';
import { PROXY_DEFAULTS } from '../proxy/defaults.js';
import { EXIT, UsageError, type CliIo } from './io.js';

type Command = (argv: string[], io: CliIo) => Promise<number>;

// Commands load on demand: `tokenshim serve` should not carry the login flow's browser opener or
// the CA's certificate library in memory.
const COMMANDS: Record<string, { summary: string; run: Command }> = {
  serve: {
    summary: `run the proxy (default ${PROXY_DEFAULTS.host}:${PROXY_DEFAULTS.port})`,
    run: async (a, io) => (await import('./serve.js')).runServe(a, io),
  },
  check: {
    summary: 'validate the configuration and show each DSN',
    run: async (a, io) => (await import('./check.js')).runCheck(a, io),
  },
  login: {
    summary: 'log in through the browser (PKCE) and store a refresh token',
    run: async (a, io) => (await import('./login.js')).runLogin(a, io),
  },
  token: {
    summary: 'print a valid access token for a DSN (for scripts)',
    run: async (a, io) => (await import('./token.js')).runToken(a, io),
  },
  service: {
    summary: 'install, remove, start, stop or check tokenshim as a Windows service or systemd unit',
    run: async (a, io) => (await import('./service.js')).runService(a, io),
  },
  demo: {
    summary: 'run a self-contained demo: a local OAuth server and API behind tokenshim (offline)',
    run: async (a, io) => (await import('./demo.js')).runDemo(a, io),
  },
  reload: {
    summary: 're-read the configuration of the running proxy (the way on Windows)',
    run: async (a, io) => (await import('./reload-command.js')).runReload(a, io),
  },
  ca: {
    summary: 'create or locate the local CA for HTTPS through the proxy',
    run: async (a, io) => (await import('./ca.js')).runCa(a, io),
  },
};

export const MAIN_HELP = (): string => `Usage: tokenshim <command> [options]

A local HTTP proxy that makes any REST client speak OAuth 2.0, configured with DataDirect
Autonomous REST Connector options (odbc.ini or a connection string).

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join('\n')}

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
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`tokenshim: unknown command "${name}"\n\n${MAIN_HELP()}`);
    return EXIT.USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`tokenshim ${name}: ${(e as Error).message}\nRun tokenshim ${name} --help\n`);
      return EXIT.USAGE;
    }
    io.stderr.write(`tokenshim ${name}: ${(e as Error).message}\n`);
    return EXIT.FAILURE;
  }
}
