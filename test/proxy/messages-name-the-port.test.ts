import { connect } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { startServer } from '../../lib/proxy/server.js';
import { makeDsn } from '../fixtures/make-dsn.js';

/** one raw request on a fresh connection; resolves with the whole answer */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

t.test(
  'messages that point at the gateway name the port tokenshim really listens on',
  async (t) => {
    const server = await startServer({
      dsns: [makeDsn({ name: 'crm', upstream: new URL('https://crm.example.test') })],
      port: 0,
    });
    t.teardown(() => server.close({ drainMs: 0 }));
    t.not(server.port, 8790);

    const unknown = await request(`${server.url}/nope/x`);
    const body = (await unknown.body.json()) as { code: string; detail: string };
    t.equal(body.code, 'TOKENSHIM_UNKNOWN_DSN');
    t.match(body.detail, 'as the first path segment (/crm/...)');
    t.notMatch(body.detail, '8790');

    const foreign = await raw(
      server.port,
      'GET http://elsewhere.test/x HTTP/1.1\r\nHost: elsewhere.test\r\nConnection: close\r\n\r\n',
    );
    t.match(foreign, /^HTTP\/1\.1 403/);
    t.match(foreign, `through the gateway URL ${server.url}/<DSN>/... instead`);

    const tunnel = await raw(
      server.port,
      'CONNECT crm.example.test:443 HTTP/1.1\r\nHost: crm.example.test:443\r\n\r\n',
    );
    t.match(tunnel, /^HTTP\/1\.1 501/);
    t.match(tunnel, `Point the client at the gateway URL ${server.url}/<DSN>/...`);
  },
);
