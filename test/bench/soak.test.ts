import { execFile } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { repoRoot } from '../fixtures/repo.js';

t.setTimeout(120_000);

/** `npm run soak -- --seconds 4` as a user runs it, so the soak keeps working. */
function soak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(repoRoot, 'dist', 'bench', 'soak.js'), ...args],
      { cwd: repoRoot, timeout: 100_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (child.exitCode ?? 1) : 0, stdout, stderr }),
    );
  });
}

t.test('a short soak prints RSS, fds, token requests and reuse, and passes', async (t) => {
  const run = await soak(['--seconds', '4', '--rate', '50', '--sample-seconds', '1']);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /RSS MB\s+fds\s+token req\s+reuse/);
  t.match(run.stdout, /^reuse\s+0 refresh tokens presented twice$/m);
  t.match(run.stdout, /^refused\s+0 requests reached the upstream with a dead token$/m);
  t.match(run.stdout, /^soak: ok$/m);
});

t.test('a bad flag is refused with the reason', async (t) => {
  const run = await soak(['--seconds', '0']);
  t.equal(run.code, 1);
  t.match(run.stderr, /--seconds 0: a positive number/);
});
