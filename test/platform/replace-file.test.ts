import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { REPLACE_RETRY_DELAYS_MS, replaceFile } from '../../lib/platform/replace-file.js';

function files(t: { teardown(fn: () => void): void }): { from: string; to: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-replace-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const from = join(dir, 'tokens.json.tmp');
  const to = join(dir, 'tokens.json');
  writeFileSync(from, 'new');
  writeFileSync(to, 'old');
  return { from, to };
}

/** a rename that fails with `code` the first `failures` times, then renames for real */
function flakyRename(
  code: string,
  failures: number,
): {
  rename: (from: string, to: string) => Promise<void>;
  calls: () => number;
} {
  let calls = 0;
  return {
    rename: async (from, to) => {
      calls++;
      if (calls <= failures) {
        throw Object.assign(
          new Error(`${code}: operation not permitted, rename '${from}' -> '${to}'`),
          {
            code,
          },
        );
      }
      await rename(from, to);
    },
    calls: () => calls,
  };
}

for (const code of ['EPERM', 'EBUSY', 'EACCES']) {
  t.test(
    `win32: a rename refused with ${code} (a scanner holds the file) is retried until it works`,
    async (t) => {
      const { from, to } = files(t);
      const flaky = flakyRename(code, 3);
      const slept: number[] = [];
      await replaceFile(from, to, {
        platform: 'win32',
        rename: flaky.rename,
        sleep: async (ms) => slept.push(ms),
      });
      t.equal(readFileSync(to, 'utf8'), 'new');
      t.equal(flaky.calls(), 4);
      t.same(slept, REPLACE_RETRY_DELAYS_MS.slice(0, 3), 'growing pauses, no real waiting');
    },
  );
}

t.test(
  'win32: once the pauses run out, the error says how often it was tried and why',
  async (t) => {
    const { from, to } = files(t);
    const flaky = flakyRename('EPERM', 100);
    await t.rejects(
      replaceFile(from, to, {
        platform: 'win32',
        rename: flaky.rename,
        sleep: async () => undefined,
      }),
      {
        code: 'EPERM',
        message:
          /tried 10 times: another program, often an antivirus scanner, kept .*tokens\.json open/,
      },
    );
    t.equal(flaky.calls(), REPLACE_RETRY_DELAYS_MS.length + 1);
    t.equal(readFileSync(to, 'utf8'), 'old', 'the old file is untouched');
  },
);

t.test('linux: EPERM is a real permission problem and fails at once', async (t) => {
  const { from, to } = files(t);
  const flaky = flakyRename('EPERM', 1);
  const slept: number[] = [];
  await t.rejects(
    replaceFile(from, to, {
      platform: 'linux',
      rename: flaky.rename,
      sleep: async (ms) => slept.push(ms),
    }),
    { code: 'EPERM', message: /^EPERM: operation not permitted, rename '[^']+'(?! \(tried)/ },
  );
  t.equal(flaky.calls(), 1);
  t.same(slept, []);
});

t.test('win32: other errors (the directory is gone) are not retried', async (t) => {
  const { from, to } = files(t);
  const flaky = flakyRename('ENOENT', 1);
  await t.rejects(
    replaceFile(from, to, {
      platform: 'win32',
      rename: flaky.rename,
      sleep: async () => undefined,
    }),
    {
      code: 'ENOENT',
    },
  );
  t.equal(flaky.calls(), 1);
});
