import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { withFileLock } from '../../../lib/auth/stores/file-lock.js';
import { FileTokenStore } from '../../../lib/auth/stores/file-store.js';
import {
  defaultTokenStorePath,
  openTokenStore,
} from '../../../lib/auth/stores/open-token-store.js';
import type { TokenshimError } from '../../../lib/errors.js';
import { makeDsn } from '../../fixtures/make-dsn.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('save and load, several keys in one file, mode 0600, no temp files left', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'nested', 'tokens.json');
  const store = new FileTokenStore(path);
  t.equal(await store.load('a'), undefined, 'a missing file is an empty store');
  await store.save('a', { refreshToken: 'rt-a', updatedAt: 1 });
  await store.save('b', { refreshToken: 'rt-b', accessToken: 'at-b', expiresAt: 9, updatedAt: 2 });
  await store.save('a', { refreshToken: 'rt-a2', updatedAt: 3 });
  t.same(await store.load('a'), { refreshToken: 'rt-a2', updatedAt: 3 });
  t.same(await new FileTokenStore(path).load('b'), {
    refreshToken: 'rt-b',
    accessToken: 'at-b',
    expiresAt: 9,
    updatedAt: 2,
  });
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.equal(statSync(join(dir, 'nested')).mode & 0o777, 0o700);
  t.same(readdirSync(join(dir, 'nested')), ['tokens.json']);
  t.equal(store.description, `file ${path}`);
});

t.test('concurrent saves of different keys lose nothing', async (t) => {
  const store = new FileTokenStore(join(tempDir(t), 'tokens.json'));
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      store.save(`k${i}`, { refreshToken: `rt${i}`, updatedAt: i }),
    ),
  );
  for (let i = 0; i < 20; i++) t.equal((await store.load(`k${i}`))?.refreshToken, `rt${i}`);
});

t.test('a corrupt file is reported and never overwritten', async (t) => {
  const path = join(tempDir(t), 'tokens.json');
  writeFileSync(path, '{"entries": {"a": {"refreshToken": "precious"');
  const store = new FileTokenStore(path);
  const err = (await store.load('a').catch((e: unknown) => e)) as TokenshimError;
  t.equal(err.code, 'TOKENSHIM_TOKEN_STORE');
  t.match(err.message, path);
  t.match(err.message, /not valid JSON.*repair or move it/);
  t.notMatch(err.message, 'precious');
  await t.rejects(store.save('a', { refreshToken: 'new', updatedAt: 0 }), {
    code: 'TOKENSHIM_TOKEN_STORE',
  });
  t.match(readFileSync(path, 'utf8'), /precious/, 'the file is untouched');

  writeFileSync(path, '[1, 2]');
  await t.rejects(store.load('a'), { message: /not a tokenshim token file/ });
});

t.test('withRefreshLock: one holder per key, other keys not blocked', async (t) => {
  const store = new FileTokenStore(join(tempDir(t), 'tokens.json'));
  const order: string[] = [];
  let releaseFirst!: () => void;
  let firstStarted!: () => void;
  const started = new Promise<void>((r) => (firstStarted = r));
  const first = store.withRefreshLock('k', async () => {
    order.push('first:start');
    const released = new Promise<void>((r) => (releaseFirst = r));
    firstStarted();
    await released;
    order.push('first:end');
    return 1;
  });
  const second = store.withRefreshLock('k', async () => {
    order.push('second');
    return 2;
  });
  await started;
  const other = await store.withRefreshLock('other-key', async () => {
    order.push('other');
    return 3;
  });
  t.equal(other, 3);
  t.same(order, ['first:start', 'other'], 'the second holder of "k" waits');
  releaseFirst();
  t.same(await Promise.all([first, second]), [1, 2]);
  t.same(order, ['first:start', 'other', 'first:end', 'second']);
  await t.rejects(
    store.withRefreshLock('k', async () => Promise.reject(new Error('boom'))),
    /boom/,
  );
  t.equal(
    await store.withRefreshLock('k', async () => 'free again'),
    'free again',
    'a throwing holder releases',
  );
});

t.test(
  'SIGKILL at any moment leaves the old or the new refresh token, never a torn file',
  async (t) => {
    const path = join(tempDir(t), 'tokens.json');
    const writer = fileURLToPath(new URL('./file-store-writer.js', import.meta.url));
    let start = 0;
    for (let round = 0; round < 6; round++) {
      // kill after a random number of completed saves, i.e. somewhere inside the next one
      const killAfter = 1 + Math.floor(Math.random() * 20);
      const child = spawn(process.execPath, [writer, path, String(start)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let lastDone = -1;
      await new Promise<void>((resolveKill) => {
        let seen = 0;
        let buffered = '';
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) {
            lastDone = Number(line);
            if (++seen === killAfter) {
              child.kill('SIGKILL');
              resolveKill();
            }
          }
        });
      });
      await new Promise((r) => child.once('exit', r));
      // the child runs on while the kill is in flight, so it may be a few saves past `lastDone`
      const file = JSON.parse(readFileSync(path, 'utf8')) as {
        entries: Record<string, { refreshToken: string; accessToken?: string }>;
      };
      const entry = file.entries['dsn'];
      const n = Number(/^rt-(\d+)$/.exec(entry?.refreshToken ?? '')?.[1]);
      t.ok(
        n >= lastDone,
        `round ${round}: rt-${n}, at least the last save reported (rt-${lastDone})`,
      );
      t.equal(
        entry?.accessToken,
        `at-${n}-${'x'.repeat(4096)}`,
        'the entry is whole and consistent',
      );
      t.match(file.entries['other']?.refreshToken, /^other-\d+$/, 'the other entry survives');
      start = n + 1;
    }
    // a kill between open and rename leaves a temp file (never read); the next store sweeps them
    await new FileTokenStore(path).save('dsn', { refreshToken: 'after', updatedAt: 0 });
    t.same(
      readdirSync(resolve(path, '..')).filter((f) => f.endsWith('.tmp')),
      [],
      'orphaned temp files of dead processes are removed',
    );
  },
);

t.test(
  'defaultTokenStorePath: next to the config, or ~/.tokenshim for connection strings',
  async (t) => {
    t.equal(defaultTokenStorePath('/etc/odbc.ini'), '/etc/odbc.ini.tokens.json');
    t.equal(defaultTokenStorePath('odbc.ini'), resolve('odbc.ini.tokens.json'));
    t.equal(defaultTokenStorePath(undefined), join(homedir(), '.tokenshim', 'tokens.json'));
  },
);

t.test('openTokenStore: TokenStore=PATH overrides; one store object per file', async (t) => {
  const dir = tempDir(t);
  const custom = join(dir, 'custom.json');
  const a = openTokenStore(makeDsn({ name: 'a', tokenStore: custom }), join(dir, 'odbc.ini'));
  const b = openTokenStore(makeDsn({ name: 'b', tokenStore: custom }), undefined);
  t.equal(a, b, 'shared, so its lock and write queue cover both DSNs');
  t.equal(a.description, `file ${custom}`);
  const byConfig = openTokenStore(makeDsn({ name: 'c' }), join(dir, 'odbc.ini'));
  t.equal(byConfig.description, `file ${join(dir, 'odbc.ini.tokens.json')}`);
});

t.test('temp files of dead processes are swept; a live writer keeps its own', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'tokens.json');
  const child = spawn(process.execPath, ['-e', '0']);
  const deadPid = child.pid!;
  await new Promise((r) => child.once('exit', r));
  const orphan = `tokens.json.${deadPid}.deadbeef.tmp`;
  const live = `tokens.json.${process.pid}.cafebabe.tmp`;
  const orphanedLockClaim = `tokens.json.lock.${deadPid}.0badf00d`;
  writeFileSync(join(dir, orphanedLockClaim), String(deadPid));
  writeFileSync(join(dir, orphan), '{"entries": {"dsn": {"refresh');
  writeFileSync(join(dir, live), '{');
  writeFileSync(join(dir, 'unrelated.tmp'), '');
  await new FileTokenStore(path).save('dsn', { refreshToken: 'rt', updatedAt: 0 });
  t.same(readdirSync(dir).sort(), [live, 'tokens.json', 'unrelated.tmp'].sort());
});

t.test('two processes saving to one file lose none of each other’s entries', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'tokens.json');
  const writer = fileURLToPath(new URL('./file-store-writer.js', import.meta.url));
  const children = ['serve', 'login'].map((key) =>
    spawn(process.execPath, [writer, path, '0', key, '200'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const exits = children.map((c) => new Promise<number | null>((r) => c.once('exit', r)));
  // both ready before either starts, so their saves really overlap
  await Promise.all(children.map((c) => new Promise((r) => c.stdout.once('data', r))));
  for (const c of children) c.stdin.write('go\n');
  t.same(await Promise.all(exits), [0, 0]);
  const file = JSON.parse(readFileSync(path, 'utf8')) as {
    entries: Record<string, { refreshToken: string }>;
  };
  t.equal(file.entries['serve']?.refreshToken, 'rt-199', "the first process's last save is there");
  t.equal(file.entries['login']?.refreshToken, 'rt-199', "and the second's");
  t.same(readdirSync(dir), ['tokens.json'], 'no lock or temp file left');
});

t.test('a lock left by a dead process is broken', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'tokens.json');
  const child = spawn(process.execPath, ['-e', '0']);
  const deadPid = child.pid!;
  await new Promise((r) => child.once('exit', r));
  writeFileSync(`${path}.lock`, String(deadPid));
  await new FileTokenStore(path).save('a', { refreshToken: 'after-crash', updatedAt: 0 });
  t.equal((await new FileTokenStore(path).load('a'))?.refreshToken, 'after-crash');
  t.same(readdirSync(dir), ['tokens.json']);
});

t.test('a lock held by a live process is waited for', async (t) => {
  const path = join(tempDir(t), 'tokens.json');
  let release!: () => void;
  let acquired!: () => void;
  const holding = new Promise<void>((r) => (acquired = r));
  const held = withFileLock(
    `${path}.lock`,
    { staleAfterMs: 60_000, waitLimitMs: 1_000, onTimeout: () => new Error('timeout') },
    () =>
      new Promise<void>((r) => {
        release = r;
        acquired();
      }),
  );
  await holding;
  let saved = false;
  const saving = new FileTokenStore(path)
    .save('a', { refreshToken: 'waited', updatedAt: 0 })
    .then(() => (saved = true));
  await new Promise((r) => setTimeout(r, 50));
  t.equal(saved, false, 'the save waits for the holder');
  release();
  await Promise.all([held, saving]);
  t.equal((await new FileTokenStore(path).load('a'))?.refreshToken, 'waited');
});

t.test(
  'the refresh lock works across processes, and a killed holder does not block it',
  async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'tokens.json');
    const holder = fileURLToPath(new URL('./file-store-lock-holder.js', import.meta.url));
    const store = new FileTokenStore(path);

    for (const ending of ['released', 'killed'] as const) {
      const child = spawn(process.execPath, [holder, path, 'dsn'], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const exited = new Promise((r) => child.once('exit', r));
      await new Promise((r) => child.stdout.once('data', r)); // "locked"
      let ran = false;
      const mine = store.withRefreshLock('dsn', async () => {
        ran = true;
        return ending;
      });
      t.equal(
        await store.withRefreshLock('other-dsn', async () => 'other'),
        'other',
        'other keys are free',
      );
      await new Promise((r) => setTimeout(r, 50));
      t.equal(ran, false, `${ending}: waits while the other process holds the lock`);
      if (ending === 'released') child.stdin.write('release\n');
      else child.kill('SIGKILL');
      t.equal(await mine, ending);
      await exited;
    }
    t.same(readdirSync(dir), [], 'no lock file left');
  },
);

t.test(
  'win32: a rotated refresh token reaches the disk although a scanner refuses the rename 3 times',
  async (t) => {
    const path = join(tempDir(t), 'tokens.json');
    await new FileTokenStore(path).save('crm', { refreshToken: 'rt-1', updatedAt: 1 });
    let refusals = 0;
    const store = new FileTokenStore(path, {
      replace: {
        platform: 'win32',
        sleep: async () => undefined,
        rename: async (from, to) => {
          if (refusals++ < 3) {
            throw Object.assign(new Error('EPERM: operation not permitted, rename'), {
              code: 'EPERM',
            });
          }
          const { rename } = await import('node:fs/promises');
          await rename(from, to);
        },
      },
    });
    await store.save('crm', { refreshToken: 'rt-2-rotated', updatedAt: 2 });
    t.equal(refusals, 4);
    t.equal((await new FileTokenStore(path).load('crm'))?.refreshToken, 'rt-2-rotated');
    t.same(
      readdirSync(join(path, '..')).filter((n) => n.endsWith('.tmp')),
      [],
      'no temp file left',
    );
  },
);

t.test('linux: a refused rename fails the save at once and keeps the old file', async (t) => {
  const path = join(tempDir(t), 'tokens.json');
  await new FileTokenStore(path).save('crm', { refreshToken: 'rt-1', updatedAt: 1 });
  let calls = 0;
  const store = new FileTokenStore(path, {
    replace: {
      platform: 'linux',
      rename: async () => {
        calls++;
        throw Object.assign(new Error('EPERM: operation not permitted, rename'), { code: 'EPERM' });
      },
    },
  });
  await t.rejects(store.save('crm', { refreshToken: 'rt-2', updatedAt: 2 }), { code: 'EPERM' });
  t.equal(calls, 1);
  t.equal((await new FileTokenStore(path).load('crm'))?.refreshToken, 'rt-1');
  t.same(
    readdirSync(join(path, '..')).filter((n) => n.endsWith('.tmp')),
    [],
  );
});
