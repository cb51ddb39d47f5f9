import { Redis } from 'ioredis';
import t, { type Test } from 'tap';

import { RedisTokenStore } from '../../../lib/auth/stores/redis-store.js';
import type { StoredTokens } from '../../../lib/auth/stores/token-store.js';
import {
  redisSkipReason,
  startRedisSentinel,
  startRedisServer,
} from '../../fixtures/redis-server.js';

// real redis-server starts, kills and restarts: a busy CI machine needs more than the suite's 60 s
t.setTimeout(180_000);

const skip = redisSkipReason({ needsOwnProcess: true });
if (skip) console.error(`# skipping the Redis Sentinel test: ${skip}`);

function rawClient(t: Test, port: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port });
  t.teardown(() => client.disconnect());
  return client;
}

/** Polls until `check` holds, bounded by attempts: Redis's state decides, not a timer. */
async function until(check: () => Promise<boolean>, what: string, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`gave up waiting until ${what}`);
}

const tokens = (n: number): StoredTokens => ({
  refreshToken: `rt-${n}`,
  accessToken: `at-${n}`,
  expiresAt: 1_800_000_000_000 + n,
  updatedAt: 1_700_000_000_000 + n,
});

t.test('redis+sentinel:// finds the master and follows a failover', { skip }, async (t) => {
  const master = await startRedisServer(t);
  const replica = await startRedisServer(t, { replicaOf: master.port });
  const sentinel = await startRedisSentinel(t, master.port);
  const masterClient = rawClient(t, master.port);
  const sentinelClient = rawClient(t, sentinel.port);
  await until(
    async () => /slave0:.*state=online/.test(await masterClient.info('replication')),
    'the replica is in sync',
  );
  await until(
    async () =>
      ((await sentinelClient.call('SENTINEL', 'REPLICAS', sentinel.masterName)) as unknown[])
        .length === 1,
    'the sentinel knows the replica',
  );

  const store = new RedisTokenStore(sentinel.url, {
    dsn: 'Sales',
    commandTimeoutMs: 2_000,
    redisOptions: { retryStrategy: () => 50 },
  });
  t.teardown(() => store.close());
  t.equal(store.description, `redis+sentinel://127.0.0.1:${sentinel.port}/${sentinel.masterName}`);
  await store.save('Sales', tokens(1));
  t.same(await store.load('Sales'), tokens(1));
  t.equal(
    await masterClient.get(store.tokensKey('Sales')),
    JSON.stringify(tokens(1)),
    'on the master',
  );
  // the failover below must not lose what was acknowledged: wait until the replica has it
  await masterClient.call('WAIT', '1', '5000');

  t.equal(await sentinelClient.call('SENTINEL', 'FAILOVER', sentinel.masterName), 'OK');
  await until(async () => {
    const addr = (await sentinelClient.call(
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      sentinel.masterName,
    )) as [string, string];
    return Number(addr[1]) === replica.port;
  }, 'the replica is the master');

  // A save right after the switch may land on the old master before Sentinel demotes it, and
  // the demoted master drops it when it resyncs. The store reconnects when the sentinels
  // announce the new master and writes back the newest tokens it knows.
  await store.save('Sales', tokens(2));
  const newMaster = rawClient(t, replica.port);
  await until(
    async () => (await newMaster.get(store.tokensKey('Sales'))) === JSON.stringify(tokens(2)),
    'the new master has the newest tokens',
  );
  t.pass('the newest tokens reached the new master');
  const seenUnderLock = await store.withRefreshLock('Sales', () => store.load('Sales'));
  t.same(seenUnderLock, tokens(2), 'a refresh on the new master sees them');
});
