import t from 'tap';
import { createCredentialProvider } from '../../../lib/auth/provider.js';
import { startServer } from '../../../lib/proxy/server.js';
import { allAdminRoutes } from '../../fixtures/admin-routes.js';
import { makeDsn } from '../../fixtures/make-dsn.js';

// POST /_tokenshim/token/<DSN>; the OAuth cases run in test/samples/qlik-cloud-impersonation.test.ts
t.test('a static credential is no token to hand out: 409 naming the method', async (t) => {
  const dsn = makeDsn({
    name: 'static',
    method: 50,
    accessToken: 'static-access-token-0123',
    upstream: new URL('http://127.0.0.1:9'),
    exposeTokens: true,
    adminKey: 'admin-key-for-static-0123',
  });
  const server = await startServer({
    dsns: [dsn],
    port: 0,
    env: {},
    adminRoutes: allAdminRoutes(),
    createProvider: (d) => createCredentialProvider(d),
  });
  t.teardown(() => server.close({ drainMs: 0 }));
  const res = await fetch(`${server.url}/_tokenshim/token/static`, {
    method: 'POST',
    headers: { 'x-tokenshim-admin-key': 'admin-key-for-static-0123' },
  });
  t.equal(res.status, 409);
  const text = await res.text();
  t.match(JSON.parse(text), {
    code: 'TOKENSHIM_TOKENS_NOT_EXPOSED',
    dsn: 'static',
    detail: /AuthenticationMethod=50/,
  });
  t.notOk(text.includes('static-access-token-0123'));
});

t.test('a DSN name that is not one path segment is an unknown DSN, not a crash', async (t) => {
  const server = await startServer({
    dsns: [],
    port: 0,
    env: {},
    adminRoutes: allAdminRoutes(),
    createProvider: (d) => createCredentialProvider(d),
  });
  t.teardown(() => server.close({ drainMs: 0 }));
  for (const path of ['token/', 'token/a/b', 'token/%E0%A4%A']) {
    const res = await fetch(`${server.url}/_tokenshim/${path}`, {
      method: 'POST',
      headers: { 'x-tokenshim-admin': '1' },
    });
    t.equal(res.status, 404, path);
    t.match(await res.json(), { code: 'TOKENSHIM_UNKNOWN_DSN' });
  }
});
