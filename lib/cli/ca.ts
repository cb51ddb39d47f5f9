import { access } from 'node:fs/promises';
import { CODES, LocalCaError } from '../errors.js';
import { caPaths, initLocalCa, resolveCaDir } from '../tls/ca-store.js';
import { defineCommand, runCommand } from './command.js';
import { EXIT, UsageError, type CliIo } from './io.js';

/** `tokenshim ca init|path`: the local CA that InterceptTLS signs certificates with. */
export const caCommand = defineCommand({
  name: 'ca',
  usage: '<init|path> [--dir DIR]',
  about: `
The local certificate authority tokenshim signs certificates with for DSNs that have
InterceptTLS=1 (HTTPS through the proxy, credentials attached). See docs/ca.md.

Commands:
  init       create the CA: a key (mode 0600, stays on this machine) and a certificate
             to import into the client's trust store
  path       print the path of the CA certificate`,
  options: {
    dir: {
      type: 'string',
      value: 'DIR',
      help: "the CA's directory (default: $TOKENSHIM_HOME/ca, else ~/.tokenshim/ca;\n%ProgramData%\\tokenshim\\ca for a Windows service account)",
    },
    force: {
      type: 'boolean',
      default: false,
      help: 'init: replace an existing CA (clients must then import the new certificate)',
    },
  },
  positional: 'command (init or path)',
  exitStatus: '0 done, 1 failed (no CA for path, a CA already there for init), 2 usage error.',
  run: async ({ values, positionals }, io) => {
    const [command] = positionals;
    if (command !== 'init' && command !== 'path') {
      throw new UsageError(
        command === undefined
          ? 'a command is needed: init or path'
          : `unknown command "${command}": use init or path`,
      );
    }
    if (command === 'path' && values.force) {
      throw new UsageError('--force only applies to init');
    }
    const dir = resolveCaDir({
      ...(values.dir === undefined ? {} : { dir: values.dir }),
      env: io.env,
    });
    return command === 'init' ? initCommand(dir, values.force, io) : pathCommand(dir, io);
  },
});

export function runCa(
  argv: string[],
  io: Pick<CliIo, 'stdout' | 'stderr' | 'env'>,
): Promise<number> {
  return runCommand(caCommand, argv, { cwd: process.cwd(), ...io });
}

async function initCommand(
  dir: string,
  force: boolean,
  io: Pick<CliIo, 'stdout' | 'stderr'>,
): Promise<number> {
  const made = await initLocalCa(dir, { force });
  io.stdout.write(
    [
      `Created a tokenshim CA in ${made.dir}`,
      `  certificate: ${made.certificatePath}`,
      `  key:         ${made.keyPath} (mode 0600: anyone with it can impersonate any HTTPS site to clients that trust the certificate)`,
      `  subject:     ${made.ca.subject.replace(/\n/g, ', ')}`,
      `  SHA-256:     ${await made.ca.fingerprint('SHA-256')}`,
      `  SHA-1:       ${await made.ca.fingerprint('SHA-1')} (certlm.msc's Thumbprint)`,
      `  valid until: ${made.ca.notAfter.toISOString()}`,
      '',
      'Next:',
      '  1. Import the certificate into the trust store of the machine the client runs on',
      `     (Windows, as administrator: certutil -addstore -f Root "${made.certificatePath}"; docs/ca.md has Linux and Java).`,
      '  2. Set InterceptTLS=1 on each DSN whose HTTPS clients send through the proxy, then start tokenshim.',
      '',
    ].join('\n'),
  );
  return EXIT.OK;
}

async function pathCommand(dir: string, io: Pick<CliIo, 'stdout' | 'stderr'>): Promise<number> {
  const { certificatePath } = caPaths(dir);
  try {
    await access(certificatePath);
  } catch (cause) {
    throw new LocalCaError(
      CODES.CA_MISSING,
      `no CA certificate at ${certificatePath}. Run \`tokenshim ca init\` first.`,
      { cause },
    );
  }
  // only the path on stdout, so `curl --cacert "$(tokenshim ca path)"` works
  io.stdout.write(`${certificatePath}\n`);
  return EXIT.OK;
}
