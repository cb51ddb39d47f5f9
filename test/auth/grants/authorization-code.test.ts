import t from 'tap';
import { createCredentialProvider } from '../../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import { FakeClock } from '../../../lib/clock.js';
import type { TokenshimError } from '../../../lib/errors.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { CLIENTS, DEFAULT_REDIRECT_URI, startOAuthServer } from '../../fixtures/oauth-server.js';

t.test(
  'authorization code (51): exchange OAuthCode once, then live on the refresh token',
  async (t) => {
    const server = await startOAuthServer();
    t.teardown(() => server.close());
    const code = await server.issueAuthorizationCode(CLIENTS.basic.clientId);
    const dsn = makeDsn({
      name: 'ac',
      method: 51,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      oauthCode: code,
      redirectUri: new URL(DEFAULT_REDIRECT_URI),
      tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
    });
    const store = new MemoryTokenStore();
    const clock = new FakeClock(Date.now());
    const p = createCredentialProvider(dsn, { store, clock });
    t.teardown(() => p.close());
    await p.credential();
    t.match(server.grants.at(-1), { grantType: 'authorization_code', error: undefined });

    clock.advance(3600_000);
    await p.credential();
    t.match(server.grants.at(-1), { grantType: 'refresh_token', error: undefined });
    await p.close();

    // a restart with the same OAuthCode in the config: the code is never sent twice
    const again = createCredentialProvider(dsn, {
      store,
      clock: new FakeClock(clock.now() + 3600_000),
    });
    t.teardown(() => again.close());
    await again.credential();
    t.same(
      server.grants.map((g) => [g.grantType, g.error]),
      [
        ['authorization_code', undefined],
        ['refresh_token', undefined],
        ['refresh_token', undefined],
      ],
    );
  },
);

t.test(
  'a used code with no stored refresh token: needs login, not a second exchange',
  async (t) => {
    const server = await startOAuthServer();
    t.teardown(() => server.close());
    const code = await server.issueAuthorizationCode(CLIENTS.basic.clientId, {
      scope: 'openid api',
    });
    const dsn = makeDsn({
      name: 'ac2',
      method: 51,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      oauthCode: code,
      redirectUri: new URL(DEFAULT_REDIRECT_URI),
      tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
    });
    const clock = new FakeClock(Date.now());
    const p = createCredentialProvider(dsn, { store: new MemoryTokenStore(), clock });
    t.teardown(() => p.close());
    await p.credential(); // no offline_access: no refresh token comes back
    clock.advance(3600_000);
    const err = (await p.credential().catch((e: unknown) => e)) as TokenshimError;
    t.equal(err.code, 'TOKENSHIM_NEEDS_LOGIN');
    t.match(err.message, /OAuthCode was exchanged already/);
    t.equal(server.grants.length, 1);
  },
);
