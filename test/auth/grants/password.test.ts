import t from 'tap';
import { createCredentialProvider } from '../../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import { FakeClock } from '../../../lib/clock.js';
import type { TokenshimError } from '../../../lib/errors.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { CLIENTS, startOAuthServer } from '../../fixtures/oauth-server.js';

t.test('password grant (52)', async (t) => {
  const server = await startOAuthServer({ users: { alice: 'p@ss word+1' } });
  t.teardown(() => server.close());
  const dsn = (o: { user?: string; password?: string }) =>
    makeDsn({
      name: 'pw',
      method: 52,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      scope: 'api',
      tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
      ...o,
    });

  t.test('User and Password are sent as username and password', async (t) => {
    const p = createCredentialProvider(dsn({ user: 'alice', password: 'p@ss word+1' }), {
      store: new MemoryTokenStore(),
      clock: new FakeClock(Date.now()),
    });
    t.teardown(() => p.close());
    const cred = await p.credential();
    t.ok(cred.accessToken);
    t.match(server.grants.at(-1), { grantType: 'password', error: undefined });
  });

  t.test('a wrong password: needs login, and the password is not in the message', async (t) => {
    const p = createCredentialProvider(dsn({ user: 'alice', password: 'not-the-password' }), {
      store: new MemoryTokenStore(),
      clock: new FakeClock(Date.now()),
    });
    t.teardown(() => p.close());
    const err = (await p.credential().catch((e: unknown) => e)) as TokenshimError;
    t.equal(err.code, 'TOKENSHIM_NEEDS_LOGIN');
    t.notMatch(err.message, 'not-the-password');
  });

  t.test('no User: a config error naming the options, no request', async (t) => {
    const before = server.tokenRequests;
    // config refuses this DSN (User and Password are requiredBy 52): the grant's own guard
    const p = createCredentialProvider(
      { ...dsn({}), user: undefined, password: undefined },
      {
        store: new MemoryTokenStore(),
        clock: new FakeClock(Date.now()),
      },
    );
    t.teardown(() => p.close());
    const err = (await p.credential().catch((e: unknown) => e)) as TokenshimError;
    t.equal(err.code, 'TOKENSHIM_CONFIG');
    t.match(err.message, /DSN "pw".*needs User and Password/);
    t.equal(server.tokenRequests, before);
  });
});
