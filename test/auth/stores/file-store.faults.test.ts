/**
 * The file store when the machine misbehaves: a disk that fills up (the lock file fits, the token
 * file does not), a read-only mount, no file descriptors left, and a file damaged while tokenshim
 * runs. The disk-full case is the kernel's own ENOSPC: temp files are opened on /dev/full.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  FileTokenStore,
  NODE_FILE_STORE_IO,
  type FileStoreIo,
} from '../../../lib/auth/stores/file-store.js';
import type { TokenshimError } from '../../../lib/errors.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-store-faults-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** node's calls, except that temp files (the token file being written) land on /dev/full */
const diskFull: FileStoreIo = {
  ...NODE_FILE_STORE_IO,
  open: ((path: string, flags: string, mode?: number) =>
    path.endsWith('.tmp')
      ? fsp.open('/dev/full', 'w')
      : fsp.open(path, flags, mode)) as typeof fsp.open,
};

function failingOpen(code: string): FileStoreIo {
  return {
    ...NODE_FILE_STORE_IO,
    open: (async (path: string) => {
      throw Object.assign(new Error(`${code}: simulated, open '${path}'`), {
        code,
        syscall: 'open',
        path,
      });
    }) as unknown as typeof fsp.open,
  };
}

t.test(
  'a full disk: the error says so, names the file and the fix, and the old file is intact',
  { skip: existsSync('/dev/full') ? false : 'no /dev/full on this system' },
  async (t) => {
    const path = join(tempDir(t), 'tokens.json');
    await new FileTokenStore(path).save('crm', { refreshToken: 'rt-old', updatedAt: 1 });
    const store = new FileTokenStore(path, { io: diskFull });
    const err = (await store
      .save('crm', { refreshToken: 'rt-new', updatedAt: 2 })
      .catch((e: unknown) => e)) as TokenshimError;
    t.equal(err.code, 'TOKENSHIM_DISK_FULL');
    t.equal(err.status, 503);
    t.match(err.message, `the disk holding ${path} is full (ENOSPC)`);
    t.match(err.message, /Free space on it, or point TokenStore at a file on another disk/);
    t.notMatch(err.message, /rt-new/, 'no token in the message');
    t.equal((await new FileTokenStore(path).load('crm'))?.refreshToken, 'rt-old');
    t.same(
      readdirSync(join(path, '..')).sort(),
      ['tokens.json'],
      'no temp or lock file left behind',
    );
  },
);

t.test('a read-only file system and exhausted file descriptors name their fix', async (t) => {
  const cases: [errno: string, code: string, advice: RegExp][] = [
    ['EROFS', 'TOKENSHIM_READ_ONLY_FILE_SYSTEM', /read-only file system \(EROFS\).*writable/],
    ['EMFILE', 'TOKENSHIM_TOO_MANY_OPEN_FILES', /no file descriptors left \(EMFILE.*ulimit -n/],
    ['ENFILE', 'TOKENSHIM_TOO_MANY_OPEN_FILES', /system has no file descriptors left \(ENFILE/],
  ];
  for (const [errno, code, advice] of cases) {
    const path = join(tempDir(t), 'tokens.json');
    const store = new FileTokenStore(path, { io: failingOpen(errno) });
    const err = (await store
      .save('crm', { refreshToken: 'rt', updatedAt: 1 })
      .catch((e: unknown) => e)) as TokenshimError;
    t.equal(err.code, code, errno);
    t.match(err.message, advice, errno);
    t.notMatch(err.message, /TokenURI|network/, `${errno}: not blamed on the network`);
  }
});

t.test('a file damaged while running is written again from memory', async (t) => {
  const damages: [name: string, damage: (text: string) => string][] = [
    ['garbage', () => 'GARBAGE\u0000\u0001'],
    ['truncated', (text) => text.slice(0, Math.floor(text.length / 2))],
    ['emptied', () => ''],
    ['JSON of another program', () => '{"hello": "world"}'],
    ['an entry of the wrong shape', () => '{"version":1,"entries":{"crm":"rt-xyz"}}'],
  ];
  for (const [name, damage] of damages) {
    const dir = tempDir(t);
    const path = join(dir, 'tokens.json');
    const store = new FileTokenStore(path);
    await store.save('crm', { refreshToken: 'rt-crm-7', updatedAt: 7 });
    await store.save('erp', { refreshToken: 'rt-erp-3', updatedAt: 3 });
    writeFileSync(path, damage(readFileSync(path, 'utf8')));

    t.same(
      await store.load('crm'),
      { refreshToken: 'rt-crm-7', updatedAt: 7 },
      `${name}: answered from memory`,
    );
    const rewritten = JSON.parse(readFileSync(path, 'utf8')) as {
      entries: Record<string, { refreshToken: string }>;
    };
    t.equal(rewritten.entries['crm']?.refreshToken, 'rt-crm-7', `${name}: rewritten`);
    t.equal(rewritten.entries['erp']?.refreshToken, 'rt-erp-3', `${name}: other DSNs too`);
    t.equal(
      readdirSync(dir).filter((f) => f.startsWith('tokens.json.damaged-')).length,
      1,
      `${name}: the damaged file is kept beside it`,
    );
    t.equal(
      (await new FileTokenStore(path).load('erp'))?.refreshToken,
      'rt-erp-3',
      `${name}: a restart reads it`,
    );
  }
});

t.test('a file damaged between saves is repaired by the next save', async (t) => {
  const path = join(tempDir(t), 'tokens.json');
  const store = new FileTokenStore(path);
  await store.save('erp', { refreshToken: 'rt-erp', updatedAt: 1 });
  writeFileSync(path, '{"entries": {"erp": {"refreshTo');
  await store.save('crm', { refreshToken: 'rt-crm', updatedAt: 2 });
  const reread = new FileTokenStore(path);
  t.equal((await reread.load('erp'))?.refreshToken, 'rt-erp');
  t.equal((await reread.load('crm'))?.refreshToken, 'rt-crm');
});

t.test('watch: a save by another process is noticed', async (t) => {
  const path = join(tempDir(t), 'tokens.json');
  const store = new FileTokenStore(path);
  await store.save('crm', { refreshToken: 'rt-1', updatedAt: 1 });
  let notified = 0;
  let wake!: () => void;
  const noticed = new Promise<void>((resolve) => (wake = resolve));
  const stop = store.watch('crm', () => {
    notified++;
    wake();
  });
  t.teardown(stop);
  await new FileTokenStore(path).save('crm', { refreshToken: 'rt-2', updatedAt: 2 });
  await noticed;
  t.ok(notified >= 1);
  stop();
  const before = notified;
  await new FileTokenStore(path).save('crm', { refreshToken: 'rt-3', updatedAt: 3 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(notified, before, 'not after it is stopped');
});
