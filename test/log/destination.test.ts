import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { openLogDestination } from '../../lib/log/destination.js';
import { createLogger } from '../../lib/log/logger.js';

function tempFile(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'serve.log');
}

t.test('lines to a file descriptor are gathered, not written one syscall a line', async (t) => {
  const path = tempFile(t);
  const fd = openSync(path, 'w');
  t.teardown(() => closeSync(fd));
  // flushMs far away: only the size threshold and close() may write
  const out = openLogDestination({ fd } as unknown as NodeJS.WritableStream, {
    flushMs: 3_600_000,
    bufferChars: 4096,
  });
  const log = createLogger({ destination: out.destination });
  for (let i = 0; i < 10; i++) log.info({ i }, 'line');
  t.equal(readFileSync(path, 'utf8'), '', 'ten short lines wait in the buffer');
  out.close();
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  t.equal(lines.length, 10, 'close() writes every buffered line');
  t.same(
    lines.map((l) => (JSON.parse(l) as { i: number }).i),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    'in order',
  );
});

t.test('a quiet log still reaches the file within flushMs', async (t) => {
  const path = tempFile(t);
  const fd = openSync(path, 'w');
  t.teardown(() => closeSync(fd));
  const out = openLogDestination({ fd } as unknown as NodeJS.WritableStream, { flushMs: 20 });
  t.teardown(() => out.close());
  createLogger({ destination: out.destination }).warn('one lonely line');
  // the flush is asynchronous (fs.write): poll the file, bounded
  for (let i = 0; i < 200 && readFileSync(path, 'utf8') === ''; i++) await sleep(10);
  t.match(readFileSync(path, 'utf8'), /one lonely line/);
});

t.test('lines gathered when the process exits are written', async (t) => {
  const path = tempFile(t);
  const script = `
    import { openSync } from 'node:fs';
    import { openLogDestination } from ${JSON.stringify(new URL('../../lib/log/destination.js', import.meta.url).href)};
    import { createLogger } from ${JSON.stringify(new URL('../../lib/log/logger.js', import.meta.url).href)};
    const out = openLogDestination({ fd: openSync(${JSON.stringify(path)}, 'w') }, { flushMs: 3600000 });
    const log = createLogger({ destination: out.destination });
    for (let i = 0; i < 50; i++) log.info({ i }, 'before exit');
    process.exitCode = 0;
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  t.equal(r.status, 0, r.stderr);
  t.equal(readFileSync(path, 'utf8').trim().split('\n').length, 50);
});

t.test(
  'a stream without a descriptor (a test capture) gets each line as it is logged',
  async (t) => {
    const got: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done): void {
        got.push(String(chunk));
        done();
      },
    });
    const out = openLogDestination(stream);
    createLogger({ destination: out.destination }).info('now');
    t.equal(got.length, 1);
    out.close();
  },
);
