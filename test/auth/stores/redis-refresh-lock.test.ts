import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import t, { type Test } from 'tap';

import {
  RedisTokenStore,
  type RedisTokenStoreOptions,
} from '../../../lib/auth/stores/redis-store.js';
import { RefreshLockTimeoutError } from '../../../lib/errors.js';
import { repoRoot } from '../../fixtures/repo.js';
import { redisSkipReason, startRedisServer } from '../../fixtures/redis-server.js';

// real redis-server starts, kills and restarts: a busy CI machine needs more than the suite's 60 s
t.setTimeout(180_000);

const skip = redisSkipReason();
if (skip) console.error(`# skipping Redis refresh-lock tests: ${skip}`);

let keyCounter = 0;
const uniqueKey = (): string => `lock-${process.pid}-${Date.now()}-${++keyCounter}`;

function openStore(t: Test, url: string, opts: RedisTokenStoreOptions = {}): RedisTokenStore {
  const store = new RedisTokenStore(url, {
    dsn: 'Sales',
    commandTimeoutMs: 1_000,
    redisOptions: { retryStrategy: () => 50 },
    ...opts,
  });
  t.teardown(() => store.close());
  return store;
}

function rawClient(t: Test, url: string): Redis {
  const client = new Redis(url);
  t.teardown(() => client.disconnect());
  return client;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Polls Redis until `check` holds; bounded by attempts. Redis state, not wall-clock, decides. */
async function until(check: () => Promise<boolean>, what: string, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting until ${what}`);
}

t.test('exclusive: across instances, one fn at a time, and every fn runs', { skip }, async (t) => {
  const redis = await startRedisServer(t);
  const key = uniqueKey();
  const stores = [1, 2, 3, 4].map(() => openStore(t, redis.url, { lockPollMs: 20 }));
  let inside = 0;
  let maxInside = 0;
  let runs = 0;
  await Promise.all(
    stores.flatMap((store) =>
      [1, 2, 3].map(() =>
        store.withRefreshLock(key, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((resolve) => setTimeout(resolve, 5));
          inside--;
          runs++;
        }),
      ),
    ),
  );
  t.equal(maxInside, 1, 'never two holders at once');
  t.equal(runs, 12);
  t.equal(await rawClient(t, redis.url).exists(stores[0]!.lockKey(key)), 0, 'released at the end');
});

t.test(
  'fn result and rejection pass through; the lock is released either way',
  { skip },
  async (t) => {
    const redis = await startRedisServer(t);
    const store = openStore(t, redis.url);
    const raw = rawClient(t, redis.url);
    const key = uniqueKey();
    t.equal(await store.withRefreshLock(key, async () => 42), 42);
    await t.rejects(
      store.withRefreshLock(key, async () => {
        throw new Error('token endpoint said no');
      }),
      { message: 'token endpoint said no' },
    );
    t.equal(await raw.exists(store.lockKey(key)), 0);
  },
);

t.test(
  'a waiter runs after the holder releases and sees what the holder saved',
  { skip },
  async (t) => {
    const redis = await startRedisServer(t);
    const key = uniqueKey();
    // a long poll: only the release notification can wake the waiter promptly
    const holder = openStore(t, redis.url);
    const waiter = openStore(t, redis.url, { lockPollMs: 60_000 });
    const raw = rawClient(t, redis.url);
    const mayFinish = deferred();
    const order: string[] = [];

    const holding = holder.withRefreshLock(key, async () => {
      order.push('holder in');
      await mayFinish.promise;
      await holder.save(key, { refreshToken: 'rt-2', updatedAt: 2 });
      order.push('holder out');
    });
    await until(
      async () => (await raw.exists(holder.lockKey(key))) === 1,
      'the holder has the lock',
    );
    const waiting = waiter.withRefreshLock(key, async () => {
      order.push('waiter in');
      return waiter.load(key);
    });
    // the waiter is subscribed and waiting once the release channel has a subscriber
    await until(
      async () =>
        ((await raw.pubsub('NUMSUB', `tokenshim:released:${key}`)) as [string, number])[1] === 1,
      'the waiter subscribed',
    );
    t.same(order, ['holder in'], 'the waiter has not run while the lock is held');
    mayFinish.resolve();
    await holding;
    t.same(
      await waiting,
      { refreshToken: 'rt-2', updatedAt: 2 },
      'fresh tokens, no second refresh',
    );
    t.same(order, ['holder in', 'holder out', 'waiter in']);
  },
);

t.test('renewal keeps the lock while fn runs, past many TTLs', { skip }, async (t) => {
  const redis = await startRedisServer(t);
  const key = uniqueKey();
  const ttlMs = 1_000;
  const holder = openStore(t, redis.url, { lockTtlMs: ttlMs, lockRenewEveryMs: 200 });
  const other = openStore(t, redis.url, { lockTtlMs: ttlMs, lockPollMs: 10 });
  const raw = rawClient(t, redis.url);
  const mayFinish = deferred();
  let otherRan = false;
  let renewals = 0;

  const holding = holder.withRefreshLock(key, () => mayFinish.promise);
  await until(async () => (await raw.exists(holder.lockKey(key))) === 1, 'the holder has the lock');
  const owner = await raw.get(holder.lockKey(key));
  const competing = other.withRefreshLock(key, async () => {
    otherRan = true;
  });
  // a renewal shows as the remaining TTL going up; 12 of them, 200 ms apart, span 2.4 TTLs,
  // so without renewal the key would have expired and `other` taken it
  let last = await raw.pttl(holder.lockKey(key));
  await until(
    async () => {
      const now = await raw.pttl(holder.lockKey(key));
      if (now > last) renewals++;
      last = now;
      return renewals >= 12;
    },
    'twelve renewals',
    2000,
  );
  t.equal(await raw.get(holder.lockKey(key)), owner, 'still the same owner');
  t.equal(otherRan, false, 'the competitor never got in');
  mayFinish.resolve();
  await holding;
  await competing;
  t.equal(otherRan, true, 'and gets in once released');
});

t.test(
  "only the owner releases: an expired holder does not delete the next holder's lock",
  { skip },
  async (t) => {
    const redis = await startRedisServer(t);
    const key = uniqueKey();
    // renewal effectively off: this holder behaves like one stalled past its TTL
    const stalled = openStore(t, redis.url, { lockTtlMs: 100, lockRenewEveryMs: 3_600_000 });
    const next = openStore(t, redis.url, { lockPollMs: 10 });
    const raw = rawClient(t, redis.url);
    const stalledMayFinish = deferred();
    const nextMayFinish = deferred();

    const stalledRun = stalled.withRefreshLock(key, () => stalledMayFinish.promise);
    await until(async () => (await raw.exists(stalled.lockKey(key))) === 1, 'stalled holds');
    const stalledOwner = await raw.get(stalled.lockKey(key));
    let nextIn = false;
    const nextRun = next.withRefreshLock(key, async () => {
      nextIn = true;
      await nextMayFinish.promise;
    });
    await until(async () => nextIn, 'the lock expired and the next instance took it');
    const nextOwner = await raw.get(next.lockKey(key));
    t.not(nextOwner, stalledOwner, 'a new random owner value');

    stalledMayFinish.resolve();
    await stalledRun;
    t.equal(
      await raw.get(next.lockKey(key)),
      nextOwner,
      "the stalled holder's release left it alone",
    );
    nextMayFinish.resolve();
    await nextRun;
    t.equal(await raw.exists(next.lockKey(key)), 0);
  },
);

t.test('a waiter gives up after lockWaitMs with a clear error', { skip }, async (t) => {
  const redis = await startRedisServer(t);
  const key = uniqueKey();
  const holder = openStore(t, redis.url);
  const impatient = openStore(t, redis.url, { lockWaitMs: 200, lockPollMs: 20 });
  const raw = rawClient(t, redis.url);
  const mayFinish = deferred();
  const holding = holder.withRefreshLock(key, () => mayFinish.promise);
  await until(async () => (await raw.exists(holder.lockKey(key))) === 1, 'the holder has the lock');
  let ran = false;
  const err = (await impatient
    .withRefreshLock(key, async () => {
      ran = true;
    })
    .catch((e: unknown) => e)) as RefreshLockTimeoutError;
  t.ok(err instanceof RefreshLockTimeoutError);
  t.equal(err.code, 'TOKENSHIM_REFRESH_LOCK_TIMEOUT');
  t.match(err.message, 'DSN "Sales" waited');
  t.match(err.message, impatient.description);
  t.match(err.message, 'TokenURI');
  t.equal(ran, false);
  mayFinish.resolve();
  await holding;
});

t.test(
  'a holder SIGKILLed while it holds the lock: another takes over after its TTL',
  { skip },
  async (t) => {
    const redis = await startRedisServer(t);
    const key = uniqueKey();
    const raw = rawClient(t, redis.url);
    const storeModule = join(repoRoot, 'dist/lib/auth/stores/redis-store.js');
    // a separate tokenshim-like process that takes the lock and hangs inside fn
    const holderSource = `
    const { RedisTokenStore } = await import(${JSON.stringify(storeModule)});
    const store = new RedisTokenStore(${JSON.stringify(redis.url)}, { lockTtlMs: 300 });
    await store.withRefreshLock(${JSON.stringify(key)}, async () => {
      process.stdout.write('holding\\n');
      await new Promise(() => {});
    });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', holderSource], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('holding') && resolve());
      child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
    });
    const ownerBefore = await raw.get(`tokenshim:lock:${key}`);
    t.ok(ownerBefore, 'the child holds the lock');

    const survivor = openStore(t, redis.url, { lockPollMs: 20 });
    let tookOver = false;
    const takingOver = survivor.withRefreshLock(key, async () => {
      tookOver = true;
      return raw.get(`tokenshim:lock:${key}`);
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const ownerDuring = await takingOver;
    t.equal(tookOver, true, "the survivor ran once the dead holder's lock expired");
    t.ok(ownerDuring);
    t.not(ownerDuring, ownerBefore, 'under its own lock');
  },
);

t.test(
  'Redis paused (SIGSTOP) while a lock is requested: on resume no ghost lock is left behind',
  { skip: redisSkipReason({ needsOwnProcess: true }) },
  async (t) => {
    const redis = await startRedisServer(t);
    const key = uniqueKey();
    // a lock that lives far longer than the second instance waits: a ghost would block it
    const frozen = openStore(t, redis.url, { commandTimeoutMs: 300, lockTtlMs: 15_000 });
    const other = openStore(t, redis.url, {
      commandTimeoutMs: 1_000,
      lockTtlMs: 15_000,
      lockWaitMs: 3_000,
      lockPollMs: 20,
    });
    await frozen.ping();
    await other.ping();
    redis.pause();
    let ran = false;
    const err = await frozen
      .withRefreshLock(key, async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    t.match(err, { code: 'TOKENSHIM_TOKEN_STORE_UNAVAILABLE' }, 'the request timed out');
    t.equal(ran, false);
    redis.resume();
    // a round trip on the frozen connection: Redis answers in order, so whatever that connection
    // sent while Redis was stopped (the timed-out SET NX) has run once this answers
    await frozen.ping();
    // a lock owned by no one would now block `other` for the full 15 s TTL, far past its 3 s wait
    const got = await other.withRefreshLock(key, async () => 'taken');
    t.equal(got, 'taken', 'the other instance takes the lock without waiting for a TTL');
    t.equal(await rawClient(t, redis.url).exists(other.lockKey(key)), 0, 'and releases it');
  },
);
