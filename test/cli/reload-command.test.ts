import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { runReload } from '../../lib/cli/reload-command.js';
import { main } from '../../lib/cli/main.js';
import { loadConfig } from '../../lib/config/load.js';
import { formatProblem, hasErrors } from '../../lib/config/problems.js';
import { ConfigError } from '../../lib/errors.js';
import { startServer, type TokenshimServer } from '../../lib/proxy/server.js';
import { allAdminRoutes } from '../fixtures/admin-routes.js';
import { captureIo } from '../fixtures/capture-io.js';
import { tempDir } from '../fixtures/temp-config.js';

/** a proxy on port 0 that re-reads `ini` as serve does */
async function proxyOn(t: Parameters<typeof tempDir>[0], ini: string): Promise<TokenshimServer> {
  const read = async () => {
    const loaded = await loadConfig({ configPath: ini });
    if (hasErrors(loaded.problems)) {
      throw new ConfigError(
        `The configuration has errors; the running one stays: ${loaded.problems.map(formatProblem).join('; ')}`,
      );
    }
    return loaded.dsns;
  };
  const server = await startServer({
    dsns: await read(),
    port: 0,
    reloadConfig: read,
    adminRoutes: allAdminRoutes(),
  });
  t.teardown(() => server.close({ drainMs: 0 }));
  return server;
}

t.test(
  'tokenshim reload --port N: the running proxy re-reads its file and the change is printed',
  async (t) => {
    const dir = tempDir(t);
    const ini = dir.write(
      'odbc.ini',
      '[one]\nHostName=https://one.example\n[gone]\nHostName=https://gone.example\n[crm]\nHostName=https://crm.example\n',
    );
    const server = await proxyOn(t, ini);
    dir.write(
      'odbc.ini',
      '[one]\nHostName=https://one.example\n[crm]\nHostName=https://crm.example/v2\n[two]\nHostName=https://two.example\n',
    );
    const io = captureIo();
    t.equal(await main(['reload', '--port', String(server.port)], io), 0, io.err());
    t.equal(
      io.out(),
      `tokenshim on http://127.0.0.1:${server.port} re-read its configuration:\n` +
        '  added:     two\n' +
        '  removed:   gone\n' +
        '  changed:   crm\n' +
        '  unchanged: one\n',
    );
    t.same(
      server.dsns().map((d) => d.name),
      ['one', 'crm', 'two'],
    );

    const again = captureIo();
    t.equal(await runReload(['--port', String(server.port)], again), 0);
    t.match(again.out(), /nothing changed \(3 DSN\(s\) as before\)/);
  },
);

t.test(
  'a configuration with errors: exit 2, the line and key named, the running one stays',
  async (t) => {
    const dir = tempDir(t);
    const ini = dir.write('odbc.ini', '[one]\nHostName=https://one.example\n');
    const server = await proxyOn(t, ini);
    dir.write('odbc.ini', '[one]\nHostName=not a url at all\n');
    const io = captureIo();
    t.equal(await runReload(['--port', String(server.port)], io), 2);
    t.match(
      io.err(),
      /did not reload \(TOKENSHIM_CONFIG\): The configuration has errors; the running one stays: .*odbc\.ini:2: error: \[one\] HostName/,
    );
    t.equal(server.dsns()[0]?.upstream?.href, 'https://one.example/');
  },
);

t.test('nothing listening: exit 1 saying to start serve or pass --port', async (t) => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const io = captureIo();
  t.equal(await runReload(['--port', String(port)], io), 1);
  t.match(
    io.err(),
    `nothing answered on http://127.0.0.1:${port} (ECONNREFUSED). Is tokenshim serve running?`,
  );
});

t.test('something else on the port: exit 1, not mistaken for a reload', async (t) => {
  const other = createServer((_req, res) => res.writeHead(404).end('not here'));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  t.teardown(() => other.close());
  const port = (other.address() as AddressInfo).port;
  const io = captureIo();
  t.equal(await runReload(['--port', String(port)], io), 1);
  t.match(io.err(), `http://127.0.0.1:${port} answered 404 and is not a tokenshim that can reload`);
});

t.test('usage: --port must be a port; --help', async (t) => {
  const io = captureIo();
  t.equal(await main(['reload', '--port', '0'], io), 2);
  t.match(io.err(), '--port 0 is not a whole number from 1 to 65535');
  const help = captureIo();
  t.equal(await main(['reload', '--help'], help), 0);
  t.match(help.out(), /Usage: tokenshim reload \[--port N\]/);
  t.match(help.out(), /default 8790/);
});
