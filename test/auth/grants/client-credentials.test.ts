import t from 'tap';
import { createCredentialProvider } from '../../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import { FakeClock } from '../../../lib/clock.js';
import type { TokenshimError } from '../../../lib/errors.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { CLIENTS, startOAuthServer } from '../../fixtures/oauth-server.js';

t.test('client_credentials (53) against oidc-provider', async (t) => {
  const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
  t.teardown(() => server.close());
  const dsnFor = (client: typeof CLIENTS.basic | typeof CLIENTS.post, mode: 0 | 3) =>
    makeDsn({
      name: 'cc',
      method: 53,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      clientCredentialsMode: mode,
      scope: 'api',
      tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
    });

  for (const [client, mode, auth] of [
    [CLIENTS.basic, 0, 'client_secret_basic'],
    [CLIENTS.post, 3, 'client_secret_post'],
  ] as const) {
    t.test(`${auth} (ClientCredentialsMode=${mode})`, async (t) => {
      const clock = new FakeClock(Date.now());
      const provider = createCredentialProvider(dsnFor(client, mode), {
        store: new MemoryTokenStore(),
        clock,
      });
      t.teardown(() => provider.close());
      const cred = await provider.credential();
      t.equal(cred.headers.length, 1);
      t.equal(cred.headers[0]?.[0], 'Authorization');
      t.equal(cred.headers[0]?.[1], `Bearer ${cred.accessToken}`);
      t.match(server.grants.at(-1), {
        grantType: 'client_credentials',
        clientAuthMethod: auth,
        scope: 'api',
        error: undefined,
      });

      // client_credentials has no refresh token: after expiry it simply asks again
      clock.advance(600_000);
      const again = await provider.credential();
      t.not(again.accessToken, cred.accessToken);
      t.equal(server.grants.at(-1)?.grantType, 'client_credentials');
      t.equal(provider.status().tokenRequests, 2);
    });
  }

  t.test(
    'a wrong secret is invalid_client: terminal, the message names the options to check',
    async (t) => {
      const dsn = { ...dsnFor(CLIENTS.post, 3), clientSecret: 'wrong-secret-value' };
      const provider = createCredentialProvider(dsn, {
        store: new MemoryTokenStore(),
        clock: new FakeClock(Date.now()),
      });
      t.teardown(() => provider.close());
      const err = (await provider.credential().catch((e: unknown) => e)) as TokenshimError;
      t.equal(err.code, 'TOKENSHIM_NEEDS_LOGIN');
      t.match(
        err.message,
        /invalid_client: .*; check ClientID, ClientSecret and ClientCredentialsMode/,
      );
      t.notMatch(err.message, 'wrong-secret-value');
      t.equal(provider.status().state, 'needs-login');
    },
  );
});
