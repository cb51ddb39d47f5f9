import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import t from 'tap';
import { openDescriptors, watchDescriptors } from '../../bench/open-descriptors.js';

async function listening(count: number): Promise<Server[]> {
  const servers = Array.from({ length: count }, () => createServer().listen(0, '127.0.0.1'));
  await Promise.all(servers.map((s) => once(s, 'listening')));
  return servers;
}

t.test('a process that keeps more sockets open than allowed is named', async (t) => {
  const me = [{ name: 'leaky', pid: process.pid }];
  const report = watchDescriptors(me, 3);
  const servers = await listening(5);
  t.teardown(() => servers.forEach((s) => s.close()));
  const notes = report();
  t.equal(notes.length, 1);
  t.match(
    notes[0],
    /^leaky held \d+ more open descriptors after the throughput rounds than before \(\d+ -> \d+\), more than the 3 its pools may add/,
  );
});

t.test('growth within the allowance, and processes without a pid, are not', async (t) => {
  const report = watchDescriptors([{ name: 'steady', pid: process.pid }, { name: 'direct' }], 3);
  const servers = await listening(2);
  t.teardown(() => servers.forEach((s) => s.close()));
  t.same(report(), []);
});

t.test('a process that is gone has no count', async (t) => {
  t.equal(openDescriptors(2 ** 22 + 1), undefined);
  t.ok((openDescriptors(process.pid) ?? 0) > 0);
  t.same(watchDescriptors([{ name: 'gone', pid: 2 ** 22 + 1 }], 0)(), []);
});
