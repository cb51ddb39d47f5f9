import t from 'tap';
import { grantPlanFor, grantTypeOf } from '../../../lib/auth/grants/grant-plan.js';
import { FakeClock } from '../../../lib/clock.js';
import { makeDsn } from '../../fixtures/make-dsn.js';

t.test('OAuth2 legacy (24) picks the grant from what is set, in DataDirect order', async (t) => {
  const all = {
    refreshToken: 'rt',
    user: 'u',
    password: 'p',
    clientId: 'c',
    clientSecret: 's',
    accessToken: 'at',
  };
  t.equal(grantTypeOf(makeDsn({ method: 24, ...all })), 'refresh_token');
  t.equal(grantTypeOf(makeDsn({ method: 24, ...all, refreshToken: undefined })), 'password');
  t.equal(
    grantTypeOf(makeDsn({ method: 24, clientId: 'c', clientSecret: 's', accessToken: 'at' })),
    'client_credentials',
  );
  t.equal(
    grantTypeOf(makeDsn({ method: 24, accessToken: 'at' })),
    undefined,
    'AccessToken alone: static',
  );
});

t.test('each method maps to its grant; GrantType overrides', async (t) => {
  t.equal(grantTypeOf(makeDsn({ method: 54 })), 'refresh_token');
  t.equal(grantTypeOf(makeDsn({ method: 53 })), 'client_credentials');
  t.equal(grantTypeOf(makeDsn({ method: 52 })), 'password');
  t.equal(grantTypeOf(makeDsn({ method: 51 })), 'authorization_code');
  t.equal(grantTypeOf(makeDsn({ method: 55 })), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
  t.equal(grantTypeOf(makeDsn({ method: 56 })), 'refresh_token');
  t.equal(
    grantTypeOf(makeDsn({ method: 53, grantType: 'urn:qlik:oauth:user-impersonation' })),
    'urn:qlik:oauth:user-impersonation',
  );
});

t.test('plans: who refreshes, who repeats, who runs once', async (t) => {
  t.match(grantPlanFor(makeDsn({ method: 54 })), { initial: undefined, refreshes: true });
  t.match(grantPlanFor(makeDsn({ method: 51 })), { initialOnce: true, refreshes: true });
  t.match(grantPlanFor(makeDsn({ method: 53 })), { initialOnce: false, refreshes: false });
  const custom = grantPlanFor(makeDsn({ method: 53, grantType: 'urn:example:token-exchange' }));
  t.equal(custom.grantType, 'urn:example:token-exchange');
  t.same(await custom.initial!.params({ dsn: makeDsn({}), clock: new FakeClock() }), [
    ['grant_type', 'urn:example:token-exchange'],
  ]);
});
