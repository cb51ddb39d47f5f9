/**
 * Remote mode done safely: with --allow-remote every DSN must have a ClientKey (at start and on
 * reload), --accept-host names (and the machine's own name) are accepted in Host, admin routes
 * answer other machines only with an AdminKey (health excepted), and CONNECT tunnels are for this
 * machine only. A client "on another machine" is this one calling its own non-loopback address.
 */
import { networkInterfaces, hostname } from 'node:os';
import t from 'tap';
import { request } from 'undici';
import { ConfigError } from '../../lib/errors.js';
import { interceptingConnectHandler } from '../../lib/proxy/connect/connect-handler.js';
import { startServer } from '../../lib/proxy/server.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { StubProvider } from '../fixtures/stub-provider.js';
import { startUpstream } from '../fixtures/upstream.js';
import { rawConnect } from '../tls/https-upstream.js';
import { withHost } from './client-requests.js';
import { startProxy } from './proxy-harness.js';

const CLIENT_KEY = 'client-key-0123456789-remote';
const ADMIN_KEY = 'admin-key-0123456789-remote';
const basic = (password: string): string =>
  `Basic ${Buffer.from(`qlik:${password}`).toString('base64')}`;

/** this machine's first non-loopback IPv4 address: what another machine would connect from */
const EXTERNAL = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
const NEEDS_EXTERNAL =
  EXTERNAL === undefined ? 'this machine has no non-loopback IPv4 address' : false;

t.test('--allow-remote refuses to start while a DSN has no ClientKey, naming them', async (t) => {
  const dsns = [
    makeDsn({ name: 'keyed', upstream: new URL('http://127.0.0.1:9'), clientKey: CLIENT_KEY }),
    makeDsn({ name: 'crm', upstream: new URL('http://127.0.0.1:9') }),
    makeDsn({ name: 'erp', upstream: new URL('http://127.0.0.1:9') }),
  ];
  await t.rejects(
    startServer({
      dsns,
      host: '0.0.0.0',
      port: 0,
      allowRemote: true,
      createProvider: (d) => new StubProvider(d),
    }),
    {
      name: ConfigError.name,
      message:
        '--allow-remote: DSN "crm", "erp" have no ClientKey, so anyone who reaches tokenshim\'s port could use the credential. Add ClientKey=<at least 16 random characters> to each (clients send it as the password of HTTP Basic, any user name, or in X-Tokenshim-Key), or drop --allow-remote.',
    },
  );
});

t.test(
  'a reload that would add a DSN without ClientKey is refused; the running one stays',
  async (t) => {
    const keyed = makeDsn({
      name: 'keyed',
      upstream: new URL('http://127.0.0.1:9'),
      clientKey: CLIENT_KEY,
    });
    const { server } = await startProxy(t, [keyed], {
      host: '127.0.0.1',
      allowRemote: true,
      reloadConfig: async () => [
        keyed,
        makeDsn({ name: 'open', upstream: new URL('http://127.0.0.1:9') }),
      ],
    });
    const res = await request(`${server.url}/_tokenshim/reload`, {
      method: 'POST',
      headers: { 'x-tokenshim-admin': '1' },
    });
    t.equal(res.statusCode, 500);
    t.match(await res.body.json(), {
      code: 'TOKENSHIM_CONFIG',
      detail: /DSN "open" has no ClientKey/,
    });
    t.same(
      server.dsns().map((d) => d.name),
      ['keyed'],
    );
  },
);

t.test(
  '--accept-host names and the machine name are accepted in Host; others get 421',
  async (t) => {
    const up = await startUpstream(t);
    const { server } = await startProxy(
      t,
      [makeDsn({ name: 'api', upstream: new URL(up.origin), clientKey: CLIENT_KEY })],
      { host: '0.0.0.0', allowRemote: true, acceptHosts: ['Tokenshim.Corp.Example', '[fd00::99]'] },
    );
    const url = `http://127.0.0.1:${server.port}/api/x`;
    const asked = (host: string) =>
      request(url, { headers: { host, authorization: basic(CLIENT_KEY) } }).then(async (r) => {
        await r.body.dump();
        return r.statusCode;
      });
    t.equal(await asked(`tokenshim.corp.example:${server.port}`), 200);
    t.equal(await asked('TOKENSHIM.corp.example'), 200, 'any case, any port');
    t.equal(await asked(`[fd00::99]:${server.port}`), 200);
    t.equal(await asked(`${hostname()}:${server.port}`), 200, "the machine's own name");
    t.equal((await withHost(url, `other.corp.example:${server.port}`)).status, 421);
  },
);

t.test(
  'from another machine: DSN requests need the ClientKey; admin routes need an AdminKey, health excepted',
  { skip: NEEDS_EXTERNAL },
  async (t) => {
    const up = await startUpstream(t);
    const dsns = [
      makeDsn({
        name: 'api',
        method: 54,
        upstream: new URL(up.origin),
        clientKey: CLIENT_KEY,
        adminKey: ADMIN_KEY,
        exposeTokens: true,
      }),
    ];
    let reloads = 0;
    const { server, stub } = await startProxy(t, dsns, {
      host: '0.0.0.0',
      allowRemote: true,
      stubOptions: { api: { expiresAt: Date.now() + 3_600_000 } },
      reloadConfig: async () => {
        reloads++;
        return dsns;
      },
    });
    const remote = `http://${EXTERNAL}:${server.port}`;
    const call = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
      const res = await request(`${remote}${path}`, { method: method as 'GET', headers });
      return { status: res.statusCode, body: await res.body.text() };
    };

    t.equal((await call('/api/x')).status, 401);
    t.equal((await call('/api/x', { authorization: basic(CLIENT_KEY) })).status, 200);
    t.equal(up.requests[0]?.headers.authorization, `Bearer ${stub('api').currentToken}`);

    t.equal((await call('/_tokenshim/health')).status, 200, 'health: for load balancers');
    for (const path of ['/_tokenshim/status', '/_tokenshim/ready', '/_tokenshim/metrics']) {
      const bare = await call(path);
      t.equal(bare.status, 401, path);
      t.match(JSON.parse(bare.body), { code: 'TOKENSHIM_ADMIN_KEY' });
      t.equal((await call(path, { 'x-tokenshim-admin-key': `${ADMIN_KEY}-wrong` })).status, 401);
      t.equal(
        (await call(path, { 'x-tokenshim-admin-key': ADMIN_KEY })).status,
        200,
        `${path} with the key`,
      );
    }
    const reload = await call('/_tokenshim/reload', { 'x-tokenshim-admin-key': ADMIN_KEY }, 'POST');
    t.equal(reload.status, 200);
    t.equal(reloads, 1);
    const token = await call(
      '/_tokenshim/token/api',
      { 'x-tokenshim-admin-key': ADMIN_KEY },
      'POST',
    );
    t.equal(token.status, 200);
    t.equal(JSON.parse(token.body).access_token, stub('api').currentToken);
  },
);

t.test(
  'from another machine without any AdminKey configured: admin routes say they are local only',
  { skip: NEEDS_EXTERNAL },
  async (t) => {
    const { server } = await startProxy(
      t,
      [makeDsn({ name: 'api', upstream: new URL('http://127.0.0.1:9'), clientKey: CLIENT_KEY })],
      { host: '0.0.0.0', allowRemote: true },
    );
    const res = await request(`http://${EXTERNAL}:${server.port}/_tokenshim/status`, {
      headers: { 'x-tokenshim-admin-key': 'anything-at-all-0123' },
    });
    t.equal(res.statusCode, 403);
    t.match(await res.body.json(), {
      code: 'TOKENSHIM_ADMIN',
      detail: /only answered to clients on this machine; set an AdminKey/,
    });
    const local = await request(`http://127.0.0.1:${server.port}/_tokenshim/status`);
    t.equal(local.statusCode, 200, 'this machine needs no key');
    await local.body.dump();
  },
);

t.test('wrong AdminKeys are throttled like ClientKeys', { skip: NEEDS_EXTERNAL }, async (t) => {
  const { server } = await startProxy(
    t,
    [
      makeDsn({
        name: 'api',
        upstream: new URL('http://127.0.0.1:9'),
        clientKey: CLIENT_KEY,
        adminKey: ADMIN_KEY,
      }),
    ],
    { host: '0.0.0.0', allowRemote: true },
  );
  const status = (key: string) =>
    request(`http://${EXTERNAL}:${server.port}/_tokenshim/status`, {
      headers: { 'x-tokenshim-admin-key': key },
    }).then(async (r) => {
      await r.body.dump();
      return r.statusCode;
    });
  for (let i = 0; i < 10; i++) t.equal(await status(`guess-${i}-0123456789`), 401);
  t.equal(await status(ADMIN_KEY), 429);
});

t.test(
  'CONNECT tunnels (TunnelOtherHosts) are for this machine only',
  { skip: NEEDS_EXTERNAL },
  async (t) => {
    const other = await startUpstream(t);
    const { server } = await startProxy(
      t,
      [
        makeDsn({
          name: 'api',
          upstream: new URL('https://api.example.com'),
          clientKey: CLIENT_KEY,
          tunnelOtherHosts: true,
        }),
      ],
      {
        host: '0.0.0.0',
        allowRemote: true,
        createConnectHandler: interceptingConnectHandler({ ca: undefined }),
      },
    );
    const target = `127.0.0.1:${other.port}`;
    const remote = await rawConnect(server.port, target, '', EXTERNAL!);
    remote.socket.destroy();
    t.equal(remote.status, 403);
    t.match(JSON.parse(remote.body), {
      code: 'TOKENSHIM_CONNECT_REFUSED',
      detail: /for clients on this machine only/,
    });
    const local = await rawConnect(server.port, target);
    local.socket.destroy();
    t.equal(local.status, 200, 'a client on this machine still gets its tunnel');
  },
);
