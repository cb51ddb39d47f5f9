import t from 'tap';
import { grantPlanFor } from '../../../lib/auth/grants/grant-plan.js';
import { FakeClock } from '../../../lib/clock.js';
import { ConfigError } from '../../../lib/errors.js';
import { makeDsn, type DsnOverrides } from '../../fixtures/make-dsn.js';

const tokenEndpoint = { method: 'POST' as const, url: new URL('https://login.example.com/token') };
const oauth = (o: DsnOverrides) => makeDsn({ clientId: 'c', tokenEndpoint, ...o });

t.test('plans: who refreshes, who repeats, who runs once', async (t) => {
  t.match(grantPlanFor(oauth({ method: 54 })), {
    grantType: 'refresh_token',
    initial: undefined,
    refreshes: true,
  });
  t.match(grantPlanFor(oauth({ method: 51 })), {
    grantType: 'authorization_code',
    initialOnce: true,
    refreshes: true,
  });
  t.match(grantPlanFor(oauth({ method: 53, clientSecret: 's' })), {
    grantType: 'client_credentials',
    initialOnce: false,
    refreshes: false,
  });
  t.match(grantPlanFor(oauth({ method: 52, user: 'u', password: 'p' })), {
    grantType: 'password',
    refreshes: false,
  });
});

t.test('the plan follows the grant config resolved, legacy 24 included', async (t) => {
  const legacy = oauth({ method: 24, user: 'u', password: 'p' });
  t.equal(legacy.effectiveMethod.code, 52);
  t.equal(grantPlanFor(legacy).grantType, 'password');
});

t.test('GrantType: any other grant_type is sent as is, with the client credentials', async (t) => {
  const custom = grantPlanFor(
    oauth({ method: 53, clientSecret: 's', grantType: 'urn:example:token-exchange' }),
  );
  t.equal(custom.grantType, 'urn:example:token-exchange');
  t.same(await custom.initial!.params({ dsn: makeDsn({}), clock: new FakeClock() }), [
    ['grant_type', 'urn:example:token-exchange'],
  ]);
});

t.test('a DSN whose method gets no token from TokenURI has no plan', async (t) => {
  t.throws(() => grantPlanFor(makeDsn({ method: 34, securityToken: 'st' })), {
    constructor: ConfigError,
    message: /DSN "test": AuthenticationMethod=34 \(BearerToken\) gets no token from TokenURI/,
  });
});
