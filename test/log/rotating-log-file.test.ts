import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import t, { type Test } from 'tap';
import { openLogFileDestination } from '../../lib/log/destination.js';
import { createLogger } from '../../lib/log/logger.js';
import { openRotatingLogFile } from '../../lib/log/rotating-log-file.js';

function logDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-logfile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function capture(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

t.test(
  'rotates by size: tokenshim.log stays the live file, .1 is the newest, at most keep are kept',
  async (t) => {
    const dir = logDir(t);
    const stderr = capture();
    const file = openRotatingLogFile({
      path: join(dir, 'tokenshim.log'),
      maxBytes: 1000,
      keep: 2,
      fallback: stderr.stream,
    });
    const line = (i: number): string => `${JSON.stringify({ i, pad: 'x'.repeat(80) })}\n`;
    for (let i = 0; i < 40; i++) file.write(line(i));
    await file.end();
    t.same(readdirSync(dir).sort(), ['tokenshim.1.log', 'tokenshim.2.log', 'tokenshim.log']);
    const numbers = (name: string): number[] =>
      readFileSync(join(dir, name), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { i: number }).i);
    const [older, newer, live] = [
      numbers('tokenshim.2.log'),
      numbers('tokenshim.1.log'),
      numbers('tokenshim.log'),
    ];
    t.ok(older.length > 0 && newer.length > 0);
    t.same(
      [...older, ...newer, ...live],
      Array.from({ length: 40 }, (_, i) => i).slice(-(older.length + newer.length + live.length)),
      'in order, oldest dropped',
    );
    t.ok(
      older.length + newer.length + live.length < 40,
      'what is older than keep files was removed',
    );
    for (const name of readdirSync(dir))
      t.ok(statSync(join(dir, name)).size <= 1000 + 100, `${name} near the limit`);
    t.equal(statSync(join(dir, 'tokenshim.log')).mode & 0o777, 0o600);
    t.equal(stderr.text(), '');
  },
);

t.test('a file that fails sends lines to stderr with one notice, then is reopened', async (t) => {
  const dir = logDir(t);
  // rotation cannot rename the live file onto a directory: the stream fails as a Windows
  // rotation refused by a program holding the file would
  mkdirSync(join(dir, 'tokenshim.1.log'));
  writeFileSync(join(dir, 'tokenshim.1.log', 'in-the-way'), '');
  const stderr = capture();
  const file = openRotatingLogFile({
    path: join(dir, 'tokenshim.log'),
    maxBytes: 1024,
    keep: 1,
    fallback: stderr.stream,
    reopenMs: 20,
  });
  t.teardown(() => file.end());
  file.write(`${'a'.repeat(1100)}\n`);
  for (let i = 0; i < 500 && !stderr.text().includes('failed'); i++)
    await new Promise((r) => setTimeout(r, 5));
  t.match(
    stderr.text(),
    /the log file .*tokenshim\.log failed \(EISDIR\); log lines go to stderr until it is reopened/,
  );
  file.write('while broken\n');
  t.match(stderr.text(), /while broken/, 'nothing is lost while the file is away');
  rmSync(join(dir, 'tokenshim.1.log'), { recursive: true });
  for (let i = 0; i < 500 && !readdirSync(dir).includes('tokenshim.1.log'); i++)
    await new Promise((r) => setTimeout(r, 5));
  file.write('after reopening\n');
  await file.end();
  t.match(readFileSync(join(dir, 'tokenshim.log'), 'utf8'), /after reopening/);
});

t.test('a file that cannot be created at all never throws into the logger', async (t) => {
  const dir = logDir(t);
  writeFileSync(join(dir, 'not-a-dir'), '');
  const stderr = capture();
  const file = openRotatingLogFile({
    path: join(dir, 'not-a-dir', 'tokenshim.log'),
    fallback: stderr.stream,
    reopenMs: 3_600_000,
  });
  const out = openLogFileDestination(file, { flushMs: 5 });
  const log = createLogger({ destination: out.destination });
  log.info('first');
  for (let i = 0; i < 500 && !stderr.text().includes('failed'); i++)
    await new Promise((r) => setTimeout(r, 5));
  log.info('second');
  await out.close();
  t.match(stderr.text(), /failed \(ENOTDIR\)/);
  t.match(stderr.text(), /"msg":"second"/);
});

t.test('the same redaction reaches the file, gathered lines are written by close()', async (t) => {
  const dir = logDir(t);
  const path = join(dir, 'tokenshim.log');
  const out = openLogFileDestination(openRotatingLogFile({ path, fallback: new PassThrough() }), {
    flushMs: 3_600_000,
  });
  const log = createLogger({ destination: out.destination });
  log.info(
    { clientSecret: 'secret-in-field', url: 'https://x.example/?access_token=secret-in-url' },
    'token request',
  );
  log.warn('Authorization: Bearer secret-in-text');
  t.notOk(existsSync(path) && readFileSync(path, 'utf8') !== '', 'gathered, not yet written');
  await out.close();
  const text = readFileSync(path, 'utf8');
  t.equal(text.trim().split('\n').length, 2);
  t.notMatch(text, /secret-in-/);
  t.match(text, /\[redacted\]/);
});

t.test('lines logged just before the process exits are in the file', async (t) => {
  const dir = logDir(t);
  const path = join(dir, 'tokenshim.log');
  const script = `
    import { PassThrough } from 'node:stream';
    import { openLogFileDestination } from ${JSON.stringify(new URL('../../lib/log/destination.js', import.meta.url).href)};
    import { openRotatingLogFile } from ${JSON.stringify(new URL('../../lib/log/rotating-log-file.js', import.meta.url).href)};
    import { createLogger } from ${JSON.stringify(new URL('../../lib/log/logger.js', import.meta.url).href)};
    const out = openLogFileDestination(openRotatingLogFile({ path: ${JSON.stringify(path)}, fallback: new PassThrough() }), { flushMs: 3600000 });
    const log = createLogger({ destination: out.destination });
    for (let i = 0; i < 50; i++) log.info({ i }, 'before exit');
    process.exit(3);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  t.equal(r.status, 3, r.stderr);
  const numbers = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { i: number }).i);
  t.same(
    [...new Set(numbers)],
    Array.from({ length: 50 }, (_, i) => i),
  );
});
