import t from 'tap';
import {
  chmod,
  lstat,
  mkdtemp,
  readFile,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CA_CERTIFICATE_FILE,
  CA_KEY_FILE,
  caPaths,
  initLocalCa,
  loadCaForInterception,
  loadLocalCa,
  resolveCaDir,
} from '../../lib/tls/ca-store.js';

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tokenshim-ca-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('resolveCaDir: --dir, else $TOKENSHIM_HOME/ca, else ~/.tokenshim/ca', async (t) => {
  t.equal(resolveCaDir({ dir: 'rel/ca', env: { TOKENSHIM_HOME: '/th' } }), resolve('rel/ca'));
  t.equal(resolveCaDir({ env: { TOKENSHIM_HOME: '/th' } }), resolve('/th', 'ca'));
  t.equal(resolveCaDir({ env: {} }), join(homedir(), '.tokenshim', 'ca'));
  t.equal(resolveCaDir({ env: { TOKENSHIM_HOME: '' } }), join(homedir(), '.tokenshim', 'ca'));
});

t.test(
  'initLocalCa writes the key at 0600 (whatever the umask) and the certificate at 0644',
  async (t) => {
    const dir = join(await tempDir(t), 'nested', 'ca');
    const previous = process.umask(0o000);
    t.teardown(() => process.umask(previous));
    const made = await initLocalCa(dir);
    t.equal(made.certificatePath, join(dir, CA_CERTIFICATE_FILE));
    t.equal(made.keyPath, join(dir, CA_KEY_FILE));
    t.equal((await stat(made.keyPath)).mode & 0o777, 0o600);
    t.equal((await stat(made.certificatePath)).mode & 0o777, 0o644);
    t.equal((await stat(dir)).mode & 0o777, 0o700);
    t.equal(await readFile(made.certificatePath, 'utf8'), made.ca.certificatePem);
    t.match(await readFile(made.keyPath, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
  },
);

t.test('loadLocalCa reads back the CA initLocalCa made', async (t) => {
  const dir = await tempDir(t);
  const made = await initLocalCa(dir);
  const loaded = await loadLocalCa(dir);
  t.equal(loaded?.certificatePem, made.ca.certificatePem);
  const leaf = new X509Certificate((await loaded!.issueLeaf('api.example.com')).certificatePem);
  t.ok(leaf.verify(new X509Certificate(made.ca.certificatePem).publicKey));
});

t.test('loadLocalCa: no CA at all is undefined, not an error', async (t) => {
  const dir = await tempDir(t);
  t.equal(await loadLocalCa(dir), undefined);
  t.equal(await loadLocalCa(join(dir, 'does-not-exist')), undefined);
});

t.test('initLocalCa keeps an existing CA unless forced', async (t) => {
  const dir = await tempDir(t);
  const first = await initLocalCa(dir);
  await t.rejects(initLocalCa(dir), {
    code: 'TOKENSHIM_CA_EXISTS',
    message: /already exists in .*`tokenshim ca init --force`/,
  });
  t.equal(await readFile(first.certificatePath, 'utf8'), first.ca.certificatePem, 'untouched');
  const second = await initLocalCa(dir, { force: true });
  t.not(second.ca.certificatePem, first.ca.certificatePem);
  t.equal((await loadLocalCa(dir))?.certificatePem, second.ca.certificatePem);
});

t.test('loadLocalCa: half a CA names the missing file', async (t) => {
  const dir = await tempDir(t);
  const { certificatePath, keyPath } = await initLocalCa(dir);
  const key = await readFile(keyPath, 'utf8');
  await unlink(keyPath);
  await t.rejects(loadLocalCa(dir), {
    code: 'TOKENSHIM_CA_INVALID',
    message: new RegExp(`incomplete: ${keyPath} is missing`),
  });
  await writeFile(keyPath, key, { mode: 0o600 });
  await unlink(certificatePath);
  await t.rejects(loadLocalCa(dir), { message: new RegExp(`${certificatePath} is missing`) });
});

t.test('loadLocalCa refuses a key others can read, except on Windows', async (t) => {
  const dir = await tempDir(t);
  const { keyPath } = caPaths(dir);
  await initLocalCa(dir);
  await chmod(keyPath, 0o644);
  await t.rejects(loadLocalCa(dir, { platform: 'linux' }), {
    code: 'TOKENSHIM_CA_INVALID',
    message: new RegExp(`readable by other users \\(mode 0644\\)\\. Run \`chmod 600 ${keyPath}\``),
  });
  t.ok(await loadLocalCa(dir, { platform: 'win32' }), 'no mode bits to check on Windows');
});

t.test('loadLocalCa: a corrupt certificate file is named with the fix', async (t) => {
  const dir = await tempDir(t);
  const { certificatePath } = await initLocalCa(dir);
  await writeFile(certificatePath, 'not a certificate');
  await t.rejects(loadLocalCa(dir), {
    message: new RegExp(`${certificatePath} is not a PEM certificate`),
  });
});

t.test('loadCaForInterception reads the CA only when a DSN has InterceptTLS=1', async (t) => {
  const home = await tempDir(t);
  const env = { TOKENSHIM_HOME: home };
  const warnings: string[] = [];
  const warn = (m: string): number => warnings.push(m);
  const plain = { name: 'plain', interceptTls: false };
  const intercepting = { name: 'crm', interceptTls: true };

  t.equal(await loadCaForInterception([intercepting], { env, warn }), undefined);
  t.equal(warnings.length, 1);
  t.match(
    warnings[0],
    /DSN\(s\) "crm" have InterceptTLS=1 but there is no tokenshim CA in .*run `tokenshim ca init`/,
  );

  await initLocalCa(join(home, 'ca'));
  // a CA nobody needs is not even read: its bad key mode must not stop the proxy
  await chmod(join(home, 'ca', CA_KEY_FILE), 0o644);
  t.equal(await loadCaForInterception([plain], { env, warn }), undefined);
  await t.rejects(loadCaForInterception([plain, intercepting], { env, warn }), {
    code: 'TOKENSHIM_CA_INVALID',
  });
  await chmod(join(home, 'ca', CA_KEY_FILE), 0o600);
  t.ok(await loadCaForInterception([plain, intercepting], { env, warn }));
  t.equal(warnings.length, 1, 'no further warnings');
});

t.test(
  'initLocalCa: a symlink planted where the key is written never receives it (O_EXCL, unpredictable name)',
  async (t) => {
    const dir = await tempDir(t);
    const elsewhere = await tempDir(t);
    const stolen = join(elsewhere, 'stolen.pem');
    const { keyPath, certificatePath } = caPaths(dir);
    // the names a process could guess: the key's and certificate's temp names by pid, and the
    // final names themselves are protected by the existing-CA check
    for (const path of [keyPath, certificatePath]) {
      await symlink(stolen, `${path}.${process.pid}.tmp`);
    }
    await initLocalCa(dir);
    await t.rejects(
      readFile(stolen, 'utf8'),
      { code: 'ENOENT' },
      'nothing was written through the link',
    );
    t.match(await readFile(keyPath, 'utf8'), /BEGIN PRIVATE KEY/);
    t.equal((await lstat(keyPath)).isSymbolicLink(), false);
  },
);
