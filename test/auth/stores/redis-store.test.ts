import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import t, { type Test } from 'tap';

import { describeTokenStore } from '../../../lib/auth/stores/describe-token-store.js';
import { LazyRedisTokenStore } from '../../../lib/auth/stores/lazy-redis-store.js';
import { openTokenStore } from '../../../lib/auth/stores/open-token-store.js';
import {
  closeRedisTokenStores,
  RedisTokenStore,
  type RedisTokenStoreOptions,
} from '../../../lib/auth/stores/redis-store.js';
import type { StoredTokens } from '../../../lib/auth/stores/token-store.js';
import { ConfigError, TokenshimError, TokenStoreUnavailableError } from '../../../lib/errors.js';
import { createLogger } from '../../../lib/log/logger.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { makeTestCertificates } from '../../fixtures/oauth-server.js';
import { redisSkipReason, startRedisServer } from '../../fixtures/redis-server.js';

// real redis-server starts, kills and restarts: a busy CI machine needs more than the suite's 60 s
t.setTimeout(180_000);

const skip = redisSkipReason();
const skipRestart = redisSkipReason({ needsOwnProcess: true });
if (skip) console.error(`# skipping Redis store tests: ${skip}`);

/** keys unique per test, so a shared REDIS_URL server is safe to use */
let keyCounter = 0;
const uniqueKey = (): string => `test-${process.pid}-${Date.now()}-${++keyCounter}`;

function openStore(t: Test, url: string, opts: RedisTokenStoreOptions = {}): RedisTokenStore {
  const store = new RedisTokenStore(url, {
    dsn: 'Sales',
    commandTimeoutMs: 1_000,
    // reconnect quickly in tests; production backs off to one attempt every 2 s
    redisOptions: { retryStrategy: () => 50 },
    ...opts,
  });
  t.teardown(() => store.close());
  return store;
}

function rawClient(t: Test, url: string): Redis {
  const client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  t.teardown(() => client.disconnect());
  return client;
}

/** Calls `attempt` until it resolves: used to wait for a reconnect, bounded by attempts, not time. */
async function untilItWorks<T>(attempt: () => Promise<T>, tries = 200): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const tokens = (n: number): StoredTokens => ({
  refreshToken: `rt-${n}-${'r'.repeat(20)}`,
  accessToken: `at-${n}-${'a'.repeat(20)}`,
  tokenType: 'Bearer',
  expiresAt: 1_800_000_000_000 + n,
  updatedAt: 1_700_000_000_000 + n,
});

t.test(
  'save then load, from another instance, under tokenshim:tokens:<key>',
  { skip },
  async (t) => {
    const redis = await startRedisServer(t);
    const a = openStore(t, redis.url);
    const b = openStore(t, redis.url);
    const key = uniqueKey();
    t.equal(await b.load(key), undefined, 'nothing stored yet');
    await a.save(key, tokens(1));
    t.same(await b.load(key), tokens(1));
    t.equal(a.tokensKey(key), `tokenshim:tokens:${key}`);
    const raw = await rawClient(t, redis.url).get(`tokenshim:tokens:${key}`);
    t.same(JSON.parse(raw ?? 'null'), tokens(1), 'plain JSON an operator can read');
  },
);

t.test('keyPrefix separates deployments sharing one Redis', { skip }, async (t) => {
  const redis = await startRedisServer(t);
  const blue = openStore(t, redis.url, { keyPrefix: 'blue:' });
  const green = openStore(t, redis.url, { keyPrefix: 'green:' });
  const key = uniqueKey();
  await blue.save(key, tokens(1));
  t.equal(await green.load(key), undefined);
  t.same(await blue.load(key), tokens(1));
});

t.test(
  'an entry that is not token JSON: a clear error that shows none of it',
  { skip },
  async (t) => {
    const redis = await startRedisServer(t);
    const store = openStore(t, redis.url);
    const raw = rawClient(t, redis.url);
    for (const junk of [
      'not json rt-secret-value',
      '{"refreshToken":"rt-secret-value"}',
      '[1,2]',
    ]) {
      const key = uniqueKey();
      await raw.set(store.tokensKey(key), junk);
      const err = (await store.load(key).catch((e: unknown) => e)) as TokenshimError;
      t.ok(err instanceof TokenshimError, junk);
      t.equal(err.code, 'TOKENSHIM_TOKEN_STORE_DATA');
      t.match(err.message, `DSN "Sales" cannot use the entry tokenshim:tokens:${key}`);
      t.match(err.message, 'redis-cli DEL');
      t.notMatch(err.message, 'rt-secret-value');
    }
  },
);

t.test(
  'an entry damaged while this instance holds its tokens is written again from memory',
  { skip },
  async (t) => {
    const redis = await startRedisServer(t);
    const store = openStore(t, redis.url);
    const raw = rawClient(t, redis.url);
    for (const junk of ['GARBAGE', '', '{"refreshToken":', '{"hello":"world"}']) {
      const key = uniqueKey();
      await store.save(key, tokens(4));
      await raw.set(store.tokensKey(key), junk);
      t.same(await store.load(key), tokens(4), `${JSON.stringify(junk)}: answered from memory`);
      t.same(
        JSON.parse((await raw.get(store.tokensKey(key))) ?? 'null'),
        tokens(4),
        `${JSON.stringify(junk)}: rewritten`,
      );
    }
  },
);

t.test(
  'a password-protected Redis: works, and the password is never printed',
  { skip: skipRestart },
  async (t) => {
    const password = 'correct-horse-battery-staple';
    const redis = await startRedisServer(t, { password });
    const store = openStore(t, redis.url);
    const key = uniqueKey();
    await store.save(key, tokens(1));
    t.same(await store.load(key), tokens(1));
    t.equal(store.description, `redis://:****@127.0.0.1:${redis.port}`);
    t.same(await describeTokenStore(store), { description: store.description, reachable: true });

    const logLines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: { write: (line: string) => void logLines.push(line) },
    });
    const wrong = openStore(t, `redis://:wrong-${password}@127.0.0.1:${redis.port}`, { logger });
    const err = (await wrong.load(key).catch((e: unknown) => e)) as TokenStoreUnavailableError;
    t.ok(err instanceof TokenStoreUnavailableError);
    t.match(err.message, /WRONGPASS|invalid password|NOAUTH/);
    t.match(err.message, 'DSN "Sales"');
    t.notMatch(err.message, password);
    t.notMatch(JSON.stringify(err.toProblem()), password);
    const health = await describeTokenStore(wrong);
    t.equal(health.reachable, false);
    t.notMatch(JSON.stringify(health), password);
    t.match(logLines.join(''), /WRONGPASS|invalid password|NOAUTH/, 'the refusal is logged');
    t.notMatch(logLines.join(''), password, 'without the password');
  },
);

t.test(
  'Redis down: clear errors, no crash; back up: works again',
  { skip: skipRestart },
  async (t) => {
    const redis = await startRedisServer(t);
    const store = openStore(t, redis.url);
    const key = uniqueKey();
    await store.save(key, tokens(1));
    t.same(await describeTokenStore(store), { description: store.description, reachable: true });

    await redis.kill();
    const loadErr = (await store.load(key).catch((e: unknown) => e)) as TokenStoreUnavailableError;
    t.ok(loadErr instanceof TokenStoreUnavailableError, 'load: typed error');
    t.equal(loadErr.code, 'TOKENSHIM_TOKEN_STORE_UNAVAILABLE');
    t.equal(loadErr.dsn, 'Sales');
    t.match(loadErr.message, `DSN "Sales" cannot read the shared tokens`);
    t.match(loadErr.message, store.description);
    t.match(loadErr.toProblem(), { status: 503, dsn: 'Sales', store: store.description });

    let ran = false;
    const lockErr = (await store
      .withRefreshLock(key, async () => {
        ran = true;
      })
      .catch((e: unknown) => e)) as TokenStoreUnavailableError;
    t.ok(lockErr instanceof TokenStoreUnavailableError, 'no lock: the refresh is refused');
    t.match(lockErr.message, 'cannot take the refresh lock to redeem the refresh token');
    t.equal(ran, false, 'fn never ran without the lock');

    const health = await describeTokenStore(store);
    t.equal(health.reachable, false);
    t.match(health.error, store.description);

    await redis.restart();
    // the server restarted empty (no persistence): the store writes back what it knew
    t.same(await untilItWorks(() => store.load(key)), tokens(1));
    t.equal(await store.withRefreshLock(key, async () => 'refreshed'), 'refreshed');
    t.same(await describeTokenStore(store), { description: store.description, reachable: true });
  },
);

t.test(
  'save while Redis is down keeps trying and lands once it is back',
  { skip: skipRestart },
  async (t) => {
    const redis = await startRedisServer(t);
    const store = openStore(t, redis.url, { saveRetryMs: 30_000 });
    const key = uniqueKey();
    await store.save(key, tokens(1));
    await redis.kill();
    let saved = false;
    const saving = store.save(key, tokens(2)).then(() => (saved = true));
    // the first attempt has failed by the time load fails the same way
    await t.rejects(store.load(key), TokenStoreUnavailableError);
    t.equal(saved, false, 'not acknowledged while Redis is down');
    await redis.restart();
    await saving;
    const other = openStore(t, redis.url);
    t.same(await other.load(key), tokens(2));
  },
);

t.test('save gives up after saveRetryMs with a clear error', { skip: skipRestart }, async (t) => {
  const redis = await startRedisServer(t);
  const store = openStore(t, redis.url, { saveRetryMs: 0 });
  await redis.kill();
  const err = (await store.save(uniqueKey(), tokens(1)).catch((e: unknown) => e)) as Error;
  t.ok(err instanceof TokenStoreUnavailableError);
  t.match(err.message, 'cannot save the refreshed tokens');
  t.notMatch(err.message, tokens(1).refreshToken ?? 'x');
});

t.test(
  'after a restart that lost data, the newest entry any instance knows wins',
  { skip: skipRestart },
  async (t) => {
    const redis = await startRedisServer(t);
    const stale = openStore(t, redis.url);
    const fresh = openStore(t, redis.url);
    const key = uniqueKey();
    await stale.save(key, tokens(1));
    await fresh.save(key, tokens(2));
    t.same(await stale.load(key), tokens(2), 'stale instance has seen the newer entry once');
    await fresh.save(key, tokens(3));
    // `stale` knows tokens(2) at most; `fresh` knows tokens(3)
    await redis.kill();
    await redis.restart();
    const observer = openStore(t, redis.url);
    // both instances write back on reconnect, in either order: the newer one must stay
    await untilItWorks(async () => {
      await Promise.all([stale.load(key), fresh.load(key)]);
    });
    t.same(await observer.load(key), tokens(3));
  },
);

t.test(
  'describeTokenStore never throws and reports a store without ping as reachable',
  async (t) => {
    const health = await describeTokenStore({
      description: 'memory',
      load: async () => undefined,
      save: async () => {},
      withRefreshLock: (_key, fn) => fn(),
      close: async () => {},
    });
    t.same(health, { description: 'memory', reachable: true });
    const failing = await describeTokenStore({
      description: 'broken',
      load: async () => undefined,
      save: async () => {},
      withRefreshLock: (_key, fn) => fn(),
      ping: async () => {
        throw new Error('no route');
      },
      close: async () => {},
    });
    t.same(failing, { description: 'broken', reachable: false, error: 'no route' });
  },
);

t.test(
  'openTokenStore routes redis:// to a Redis store that loads ioredis on first use',
  { skip },
  async (t) => {
    const redis = await startRedisServer(t);
    t.teardown(() => closeRedisTokenStores());
    const sales = makeDsn({ name: 'Sales', tokenStore: ` ${redis.url} ` });
    const store = openTokenStore(sales, undefined);
    t.ok(store instanceof LazyRedisTokenStore);
    t.match(store.description, new URL(redis.url).host, 'described before ioredis is loaded');
    await store.save('Sales', tokens(1));
    t.same(await openTokenStore(sales, undefined).load('Sales'), tokens(1), 'same Redis, same key');
    await closeRedisTokenStores();
    t.same(await openTokenStore(sales, undefined).load('Sales'), tokens(1), 'reopens after close');
    await closeRedisTokenStores();
  },
);

t.test('openTokenStore: a malformed redis URL is a ConfigError naming the DSN', async (t) => {
  const dsn = makeDsn({ name: 'Sales', tokenStore: 'redis://:hunter2hunter2@cache:6379/db0' });
  const err = t.throws(() => openTokenStore(dsn, undefined)) as unknown;
  t.ok(err instanceof ConfigError);
  t.match(
    (err as Error).message,
    'DSN "Sales": TokenStore redis://:****@cache:6379/db0 names database "db0"',
  );
  t.notMatch((err as Error).message, 'hunter2');
});

t.test(
  'rediss:// speaks TLS, and an untrusted certificate is a clear error',
  { skip: skipRestart },
  async (t) => {
    const certs = makeTestCertificates();
    t.teardown(() => rmSync(certs.dir, { recursive: true, force: true }));
    const certFile = join(certs.dir, 'redis-server.pem');
    const keyFile = join(certs.dir, 'redis-server.key');
    writeFileSync(certFile, certs.serverCert);
    writeFileSync(keyFile, certs.serverKey);
    const redis = await startRedisServer(t, { tls: { certFile, keyFile } });
    t.match(redis.url, /^rediss:\/\//);

    // trusted through the CA (in production: NODE_EXTRA_CA_CERTS or a public CA)
    const trusting = openStore(t, redis.url, {
      redisOptions: { retryStrategy: () => 50, tls: { ca: certs.caPem } },
    });
    const key = uniqueKey();
    await trusting.save(key, tokens(1));
    t.same(await trusting.load(key), tokens(1));

    // no reconnect loop: each retry is another failed TLS handshake, and one still under way when
    // the test tears Redis down can end in an error no client is left to hear
    const untrusting = openStore(t, redis.url, { redisOptions: { retryStrategy: () => null } });
    const err = (await untrusting.load(key).catch((e: unknown) => e)) as Error;
    t.ok(err instanceof TokenStoreUnavailableError);
    t.match(err.message, /certificate/i, 'says the certificate is the problem');
    t.match(err.message, `token store ${redis.url}`);
  },
);
