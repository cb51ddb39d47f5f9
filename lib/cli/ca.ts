import { access } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { LocalCaError } from '../errors.js';
import { caPaths, initLocalCa, resolveCaDir } from '../tls/ca-store.js';
import { EXIT, type CliIo } from './io.js';

export const CA_HELP = `Usage: tokenshim ca <init|path> [--dir DIR]

The local certificate authority tokenshim signs certificates with for DSNs that have
InterceptTLS=1 (HTTPS through the proxy, credentials attached). See docs/ca.md.

Commands:
  init       create the CA: a key (mode 0600, stays on this machine) and a certificate
             to import into the client's trust store
  path       print the path of the CA certificate

Options:
  --dir DIR  the CA's directory (default: $TOKENSHIM_HOME/ca, else ~/.tokenshim/ca;
             %ProgramData%\\tokenshim\\ca for a Windows service account)
  --force    init: replace an existing CA (clients must then import the new certificate)
  -h, --help show this help

Exit status: 0 done, 1 failed (no CA for path, a CA already there for init), 2 usage error.
`;

export async function runCa(
  argv: string[],
  io: Pick<CliIo, 'stdout' | 'stderr' | 'env'>,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        dir: { type: 'string' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (err) {
    io.stderr.write(`tokenshim ca: ${(err as Error).message}\n\n${CA_HELP}`);
    return EXIT.USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(CA_HELP);
    return EXIT.OK;
  }
  const [command, ...extra] = positionals;
  if ((command !== 'init' && command !== 'path') || extra.length > 0) {
    const what =
      command === undefined
        ? 'a command is needed'
        : `unknown arguments "${positionals.join(' ')}"`;
    io.stderr.write(`tokenshim ca: ${what}; use init or path.\n\n${CA_HELP}`);
    return EXIT.USAGE;
  }
  if (command === 'path' && values.force) {
    io.stderr.write('tokenshim ca path: --force only applies to init.\n');
    return EXIT.USAGE;
  }
  const dir = resolveCaDir({
    ...(values.dir === undefined ? {} : { dir: values.dir }),
    env: io.env,
  });
  return command === 'init' ? initCommand(dir, values.force ?? false, io) : pathCommand(dir, io);
}

async function initCommand(
  dir: string,
  force: boolean,
  io: Pick<CliIo, 'stdout' | 'stderr'>,
): Promise<number> {
  let made;
  try {
    made = await initLocalCa(dir, { force });
  } catch (err) {
    if (!(err instanceof LocalCaError) && !isFileSystemError(err)) throw err;
    io.stderr.write(`tokenshim ca init: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
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
  } catch {
    io.stderr.write(
      `tokenshim ca path: no CA certificate at ${certificatePath}. Run \`tokenshim ca init\` first.\n`,
    );
    return EXIT.FAILURE;
  }
  // only the path on stdout, so `curl --cacert "$(tokenshim ca path)"` works
  io.stdout.write(`${certificatePath}\n`);
  return EXIT.OK;
}

function isFileSystemError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}
