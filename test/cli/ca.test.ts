import t from 'tap';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCa } from '../../lib/cli/ca.js';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString('utf8'));
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
}

async function run(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = capture();
  const stderr = capture();
  const code = await runCa(argv, { stdout: stdout.stream, stderr: stderr.stream, env });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tokenshim-ca-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test(
  'ca init creates the CA and says what to do next; the key never reaches the terminal',
  async (t) => {
    const dir = join(await tempDir(t), 'ca');
    const out = await run(['init', '--dir', dir]);
    t.equal(out.code, 0, out.stderr);
    const certificatePath = join(dir, 'tokenshim-ca.crt');
    const keyPath = join(dir, 'tokenshim-ca.key');
    t.match(out.stdout, `certificate: ${certificatePath}`);
    t.match(out.stdout, `key:         ${keyPath} (mode 0600`);
    t.match(out.stdout, /SHA-256: {5}([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    t.match(out.stdout, /SHA-1: {7}([0-9A-F]{2}:){19}[0-9A-F]{2} \(certlm\.msc's Thumbprint\)/);
    t.match(out.stdout, `certutil -addstore -f Root "${certificatePath}"`);
    t.match(out.stdout, /Set InterceptTLS=1/);
    t.equal((await stat(keyPath)).mode & 0o777, 0o600);
    const keyBody = (await readFile(keyPath, 'utf8')).split('\n')[1] ?? 'missing';
    t.notMatch(out.stdout + out.stderr, /PRIVATE KEY/);
    t.notMatch(out.stdout + out.stderr, keyBody);
  },
);

t.test('ca init keeps an existing CA unless --force', async (t) => {
  const dir = await tempDir(t);
  t.equal((await run(['init', '--dir', dir])).code, 0);
  const before = await readFile(join(dir, 'tokenshim-ca.crt'), 'utf8');
  const again = await run(['init', '--dir', dir]);
  t.equal(again.code, 1);
  t.match(again.stderr, /^tokenshim ca: A tokenshim CA already exists in .*--force/);
  t.equal(await readFile(join(dir, 'tokenshim-ca.crt'), 'utf8'), before);
  const forced = await run(['init', '--force', '--dir', dir]);
  t.equal(forced.code, 0);
  t.not(await readFile(join(dir, 'tokenshim-ca.crt'), 'utf8'), before);
});

t.test('ca path prints only the certificate path, once the CA exists', async (t) => {
  const dir = await tempDir(t);
  const missing = await run(['path', '--dir', dir]);
  t.equal(missing.code, 1);
  t.equal(missing.stdout, '');
  t.match(
    missing.stderr,
    /no CA certificate at .*tokenshim-ca\.crt\. Run `tokenshim ca init` first/,
  );
  await run(['init', '--dir', dir]);
  const found = await run(['path', '--dir', dir]);
  t.equal(found.code, 0);
  t.equal(found.stdout, `${join(dir, 'tokenshim-ca.crt')}\n`);
});

t.test('without --dir the CA lives in $TOKENSHIM_HOME/ca', async (t) => {
  const home = await tempDir(t);
  t.equal((await run(['init'], { TOKENSHIM_HOME: home })).code, 0);
  t.equal(
    (await run(['path'], { TOKENSHIM_HOME: home })).stdout,
    `${join(home, 'ca', 'tokenshim-ca.crt')}\n`,
  );
});

t.test('a directory that cannot be created fails with the reason', async (t) => {
  const file = join(await tempDir(t), 'a-file');
  await writeFile(file, 'x');
  const out = await run(['init', '--dir', join(file, 'ca')]);
  t.equal(out.code, 1);
  t.match(out.stderr, /^tokenshim ca: .*(ENOTDIR|EEXIST)/);
});

t.test('usage errors exit 2 with the help', async (t) => {
  for (const argv of [
    [],
    ['sign'],
    ['init', 'extra'],
    ['init', '--bogus'],
    ['path', '--force'],
    ['init', '--dir'],
  ]) {
    const out = await run(argv);
    t.equal(out.code, 2, argv.join(' '));
    t.match(out.stderr, /tokenshim ca/, argv.join(' '));
  }
  const help = await run(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: tokenshim ca <init\|path>/);
});
