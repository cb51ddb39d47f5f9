import t from 'tap';

import { RedisTokenStore } from '../../../lib/auth/stores/redis-store.js';
import type { TokenEvent } from '../../../lib/auth/token-events.js';
import { TokenManager } from '../../../lib/auth/token/token-manager.js';
import { FakeClock } from '../../../lib/clock.js';
import { TokenshimError } from '../../../lib/errors.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { CLIENTS, startOAuthServer } from '../../fixtures/oauth-server.js';
import { redisSkipReason, startRedisServer } from '../../fixtures/redis-server.js';
import { loopbackDispatcher } from '../../fixtures/loopback-dispatcher.js';

// real redis-server starts, kills and restarts: a busy CI machine needs more than the suite's 60 s
t.setTimeout(180_000);

const skip = redisSkipReason({ needsOwnProcess: true });
if (skip) console.error(`# skipping the Redis outage test: ${skip}`);

t.test(
  'Redis down: the valid token keeps being served, no refresh without the lock, recovery after Redis returns',
  { skip },
  async (t) => {
    // no persistence: the entry comes back because the instance writes back what it knew
    const redis = await startRedisServer(t);
    const oauth = await startOAuthServer({ accessTokenTtlSeconds: 60 });
    t.teardown(() => oauth.close());
    const scope = 'openid offline_access api';
    const dsn = makeDsn({
      name: 'Sales',
      method: 54,
      grantType: 'refresh_token',
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      refreshToken: await oauth.issueRefreshToken(CLIENTS.basic.clientId, scope),
      scope,
      tokenEndpoint: { method: 'POST', url: new URL(oauth.tokenEndpoint) },
      tokenStore: redis.url,
    });
    const store = new RedisTokenStore(redis.url, {
      dsn: dsn.name,
      commandTimeoutMs: 300,
      redisOptions: { retryStrategy: () => 50 },
    });
    t.teardown(() => store.close());
    const clock = new FakeClock(Date.now());
    const failed: ((e: TokenEvent) => void)[] = [];
    const manager = new TokenManager({
      dsn,
      dispatcher: loopbackDispatcher(t),
      store,
      clock,
      onEvent: (e) => {
        if (e.type === 'token_fetch_failed') for (const f of failed.splice(0)) f(e);
      },
    });
    t.teardown(() => manager.close());
    const nextFailure = (): Promise<TokenEvent> => new Promise((resolve) => failed.push(resolve));

    const first = await manager.getToken();
    t.equal(oauth.tokenRequests, 1);

    await redis.kill();
    // past refresh-ahead time (a tenth of 60 s left): the background refresh cannot take the lock
    const refreshFailed = nextFailure();
    clock.advance(54_000);
    t.equal((await manager.getToken()).accessToken, first.accessToken, 'the valid token is served');
    t.match(await refreshFailed, {
      type: 'token_fetch_failed',
      trigger: 'ahead_of_expiry',
      terminal: false,
    });
    t.equal(oauth.tokenRequests, 1, 'no token request without the lock');
    t.equal((await manager.getToken()).accessToken, first.accessToken, 'still served');
    t.match(manager.status(), { state: 'valid', lastError: /token store redis:\/\/127\.0\.0\.1/ });

    // past expiry: a clear error naming the DSN and the store, never an expired token
    clock.advance(7_000);
    let expiredError: unknown;
    for (let i = 0; i < 10 && expiredError === undefined; i++) {
      expiredError = await manager.getToken().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (expiredError === undefined) clock.advance(1_000);
    }
    t.ok(expiredError instanceof TokenshimError);
    t.match(expiredError, {
      code: 'TOKENSHIM_TOKEN_STORE_UNAVAILABLE',
      dsn: 'Sales',
      message:
        /DSN "Sales" cannot .*token store redis:\/\/127\.0\.0\.1:\d+ \(TokenStore\) is unreachable/,
    });
    t.equal(oauth.tokenRequests, 1, 'still no token request');

    await redis.restart();
    let second;
    for (let i = 0; i < 200 && second === undefined; i++) {
      // each failed attempt backs off; move the fake clock past it and let Redis reconnect
      clock.advance(10_000);
      second = await manager.getToken().catch(() => undefined);
      if (second === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.ok(second, 'recovered once Redis was back');
    t.not(second?.accessToken, first.accessToken, 'with a fresh token');
    t.equal(oauth.tokenRequests, 2, 'one token request for the recovery');
    t.same(
      oauth.grants.filter((g) => g.error !== undefined),
      [],
      'the refresh token survived the restart: no invalid_grant',
    );
    const stored = await store.load(dsn.tokenStoreKey);
    t.equal(stored?.accessToken, second?.accessToken, 'and the new tokens are in Redis');
  },
);
