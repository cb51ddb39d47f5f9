import type { Readable } from 'node:stream';
import {
  DpapiUnavailableError,
  openDpapi,
  type DpapiDeps,
  type DpapiScope,
} from '../platform/dpapi.js';
import { defineCommand, runCommand } from './command.js';
import { EXIT, UsageError, type CliIo } from './io.js';

const ABOUT = `
Encrypts a secret with Windows DPAPI and prints it as \${dpapi:...}, to paste as an option's value
(ClientSecret=\${dpapi:AQAAANCM...}) instead of the secret itself. The secret is read from standard
input: typed (not shown) at a terminal, or piped (one trailing line break is dropped). Never pass
it as an argument: command lines are logged and kept in shell history.

--scope user: only this Windows account can decrypt it (run tokenshim protect as the account the
tokenshim service runs as). --scope machine: any account on this machine can decrypt it (protects
against copying the config elsewhere, not against other local users). Windows only.`;

const SCOPES: Readonly<Record<string, DpapiScope>> = {
  user: 'CurrentUser',
  machine: 'LocalMachine',
};

export interface ProtectDeps {
  readonly stdin?: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly dpapi?: DpapiDeps;
}

/** `tokenshim protect`: a secret from stdin, encrypted with DPAPI, as a `${dpapi:...}` value. */
export function protectCommand(deps: ProtectDeps = {}) {
  return defineCommand({
    name: 'protect',
    usage: '[--scope user|machine]',
    about: ABOUT,
    options: {
      scope: {
        type: 'string',
        default: 'user',
        value: 'SCOPE',
        help: 'user (default: this Windows account) or machine (any account here)',
      },
    },
    exitStatus: '0 printed, 1 DPAPI unavailable, 2 usage error or no secret given.',
    run: async ({ values }, io) => {
      const scope = SCOPES[values.scope];
      if (!scope)
        throw new UsageError(`--scope ${values.scope}: write --scope user or --scope machine`);
      let dpapi;
      try {
        dpapi = await openDpapi(scope, deps.dpapi);
      } catch (e) {
        if (!(e instanceof DpapiUnavailableError)) throw e;
        io.stderr.write(`tokenshim protect: ${e.message}\n`);
        return EXIT.FAILURE;
      }
      const stdin = deps.stdin ?? process.stdin;
      const secret = stdin.isTTY ? await readHidden(stdin, io) : await readPiped(stdin);
      if (secret === '') {
        io.stderr.write('tokenshim protect: no secret was given on standard input\n');
        return EXIT.USAGE;
      }
      const blob = dpapi.protect(Buffer.from(secret, 'utf8')).toString('base64');
      io.stdout.write(`\${dpapi:${blob}}\n`);
      io.stderr.write(
        `Paste it as the option's value, e.g. ClientSecret=\${dpapi:...}. ${
          scope === 'CurrentUser'
            ? 'Only this Windows account on this machine can decrypt it.'
            : 'Only this machine can decrypt it.'
        }\n`,
      );
      return EXIT.OK;
    },
  });
}

export function runProtect(argv: string[], io: CliIo, deps: ProtectDeps = {}): Promise<number> {
  return runCommand(protectCommand(deps), argv, io);
}

async function readPiped(stdin: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** A line typed at the terminal, not echoed: a secret must not stay on screen or in a recording. */
function readHidden(
  stdin: Readable & { setRawMode?: (raw: boolean) => unknown },
  io: CliIo,
): Promise<string> {
  io.stderr.write('Secret to protect (input is not shown): ');
  stdin.setRawMode?.(true);
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (error?: Error): void => {
      stdin.setRawMode?.(false);
      stdin.pause();
      stdin.off('data', onData);
      io.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string): void => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n') return done();
        if (c === '\u0003') return done(new UsageError('cancelled'));
        if (c === '\u007f' || c === '\b') typed = typed.slice(0, -1);
        else typed += c;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
