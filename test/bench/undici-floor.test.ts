import { once } from 'node:events';
import { createServer, get, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { ChildProcesses } from '../../bench/child-processes.js';
import type { ProxyReady } from '../../bench/contestants/tokenshim-process.js';

const FLOOR = fileURLToPath(
  new URL('../../bench/contestants/undici-floor-process.js', import.meta.url),
);
const CHUNK = Buffer.alloc(64 * 1024, 'y');

/**
 * An upstream that streams without end (with backpressure) and reports how each response ended:
 * `finished` when all of it went out, `closed early` when its connection went away first.
 */
async function endlessUpstream(t: Test) {
  const ended: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const server = createServer((req, res: ServerResponse) => {
    authorizations.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.once('close', () => {
      ended.push(res.writableFinished ? 'finished' : 'closed early');
      server.emit('response-ended');
    });
    const pump = (): void => {
      while (!res.destroyed && res.write(CHUNK));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { server, ended, authorizations, port: (server.address() as AddressInfo).port };
}

t.test('the floor aborts the upstream response when its client leaves', async (t) => {
  const upstream = await endlessUpstream(t);
  const children = new ChildProcesses();
  const floor = await children.fork<ProxyReady>(FLOOR, [
    `http://127.0.0.1:${upstream.port}`,
    'Bearer floor-test',
  ]);
  t.teardown(() => floor.close());

  const responseEnded = once(upstream.server, 'response-ended');
  const client = get(`${floor.ready.url}/endless`);
  const [res] = (await once(client, 'response')) as [NodeJS.ReadableStream];
  await once(res, 'data');
  client.destroy();
  // left paused, the upstream response would stay open (and its connection taken) for good
  await responseEnded;
  t.same(upstream.ended, ['closed early'], 'the upstream connection was let go');
  t.same(upstream.authorizations, ['Bearer floor-test'], 'the credential was attached');
});
