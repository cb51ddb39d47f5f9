/** The headers config decided on (AuthHeader + SecurityToken, Model file #headers) reach the upstream. */
import t from 'tap';
import { request } from 'undici';
import { loadConfig } from '../../lib/config/load.js';
import { startServer } from '../../lib/proxy/server.js';
import { tempDir } from '../fixtures/temp-config.js';
import { startUpstream } from '../fixtures/upstream.js';

t.test(
  "a static-token DSN: the access token, the tenant header and the Model file headers, replacing the client's",
  async (t) => {
    const up = await startUpstream(t);
    const { dir, write } = tempDir(t);
    write(
      'api.rest',
      JSON.stringify({ '#headers': { Accept: 'application/json', 'X-Api-Version': 2 } }),
    );
    const ini = write(
      'odbc.ini',
      `[Sales EU]\nAuthenticationMethod=50\nAccessToken=access-token-value\nAuthHeader=X-Tenant-ID\nSecurityToken=tenant-0042\nHostName=${up.origin}/v2\nRestConfigFile=api.rest\n` +
        `[collides]\nAuthenticationMethod=50\nAccessToken=access-token-value\nAuthHeader=Authorization\nSecurityToken=1a2bc34def567\nHostName=${up.origin}\n`,
    );
    const loaded = await loadConfig({ configPath: ini, env: {}, cwd: dir });
    t.same(
      loaded.problems.map((p) => p.severity),
      ['warning'],
      'one warning: the collision',
    );
    const server = await startServer({ dsns: loaded.dsns, port: 0, env: {} });
    t.teardown(() => server.close({ drainMs: 0 }));

    const res = await request(`${server.dsnUrl('Sales EU')}/orders`, {
      headers: { accept: 'text/csv', 'x-tenant-id': 'spoofed' },
    });
    t.equal(res.statusCode, 200);
    await res.body.dump();
    t.match(up.requests[0], {
      url: '/v2/orders',
      headers: {
        authorization: 'Bearer access-token-value',
        'x-tenant-id': 'tenant-0042',
        accept: 'application/json',
        'x-api-version': '2',
      },
    });

    const other = await request(`${server.dsnUrl('collides')}/x`);
    await other.body.dump();
    t.equal(up.requests[1]?.headers.authorization, 'Bearer access-token-value');
    t.notMatch(JSON.stringify(up.requests[1]?.headers), '1a2bc34def567');
  },
);
