import { spawn } from 'node:child_process';
import { join } from 'node:path';

import t from 'tap';
import { request } from 'undici';

import { RedisTokenStore } from '../../../lib/auth/stores/redis-store.js';
import { TokenManager } from '../../../lib/auth/token/token-manager.js';
import { createLogger } from '../../../lib/log/logger.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { CLIENTS, startOAuthServer } from '../../fixtures/oauth-server.js';
import { redisSkipReason, startRedisServer } from '../../fixtures/redis-server.js';
import { repoRoot } from '../../fixtures/repo.js';
import { loopbackDispatcher } from '../../fixtures/loopback-dispatcher.js';

/**
 * Issue 8's acceptance run: three instances (TokenManager + its own RedisTokenStore connections)
 * share one rotating refresh token through one Redis, against a real OAuth server that revokes the
 * whole grant when a consumed refresh token is presented. 7 s by default; the issue's 20 s with
 * TOKENSHIM_REDIS_SOAK_SECONDS=20.
 */
const SOAK_SECONDS = Number(process.env.TOKENSHIM_REDIS_SOAK_SECONDS ?? 7);
const ACCESS_TOKEN_SECONDS = 2;
const STORE_KEY = 'shared-sales';

t.setTimeout((SOAK_SECONDS + 60) * 1000);

const skip = redisSkipReason({ needsOwnProcess: true });
if (skip) console.error(`# skipping the multi-instance Redis run: ${skip}`);

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test(
  `three instances, one rotating refresh token, one Redis, ${SOAK_SECONDS} s with Redis killed and a lock holder killed`,
  { skip, timeout: (SOAK_SECONDS + 30) * 1000 },
  async (t) => {
    const redis = await startRedisServer(t, { persistent: true });
    const oauth = await startOAuthServer({ accessTokenTtlSeconds: ACCESS_TOKEN_SECONDS });
    t.teardown(() => oauth.close());
    const scope = 'openid offline_access api';
    const firstRefreshToken = await oauth.issueRefreshToken(CLIENTS.basic.clientId, scope);
    const dsn = makeDsn({
      name: 'Sales',
      method: 54,
      grantType: 'refresh_token',
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      refreshToken: firstRefreshToken,
      scope,
      tokenEndpoint: { method: 'POST', url: new URL(oauth.tokenEndpoint) },
      tokenStore: redis.url,
      tokenStoreKey: STORE_KEY,
    });

    const logLines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: { write: (line: string) => void logLines.push(line) },
    });
    const openStore = (): RedisTokenStore => {
      const store = new RedisTokenStore(redis.url, {
        dsn: dsn.name,
        logger,
        // renewed every 500 ms: a busy CI machine must not let a live holder's lock lapse, and a
        // lock left behind still lapses before a 2 s token runs out
        lockTtlMs: 1_500,
        // rides through the Redis restart below instead of failing the refresh
        commandTimeoutMs: 3_000,
        redisOptions: { retryStrategy: () => 50 },
      });
      t.teardown(() => store.close());
      return store;
    };
    const instances = [1, 2, 3].map(
      () =>
        new TokenManager({ dsn, store: openStore(), logger, dispatcher: loopbackDispatcher(t) }),
    );
    let closed = false;
    const closeInstances = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await Promise.all(instances.map((m) => m.close()));
    };
    t.teardown(closeInstances);

    const failures: string[] = [];
    const accessTokens = new Set<string>();
    let calls = 0;
    const started = Date.now();
    const endAt = started + SOAK_SECONDS * 1000;
    const drive = async (manager: TokenManager): Promise<void> => {
      while (Date.now() < endAt) {
        try {
          const token = await manager.getToken();
          calls++;
          accessTokens.add(token.accessToken);
        } catch (err) {
          failures.push((err as Error).message);
        }
        await pause(15);
      }
    };
    const drivers = instances.map(drive);

    // a third of the way in: Redis crashes and comes back (AOF, fsync always)
    await pause((SOAK_SECONDS * 1000) / 3);
    await redis.kill();
    await pause(300);
    await redis.restart();

    // two thirds in: another instance takes the refresh lock and dies holding it
    await pause((SOAK_SECONDS * 1000) / 3 - 300);
    const storeModule = join(repoRoot, 'dist/lib/auth/stores/redis-store.js');
    const holderSource = `
      const { RedisTokenStore } = await import(${JSON.stringify(storeModule)});
      // this holder dies: its lock must lapse well within a 2 s token's remaining life
      const store = new RedisTokenStore(${JSON.stringify(redis.url)}, { lockTtlMs: 500 });
      await store.withRefreshLock(${JSON.stringify(STORE_KEY)}, async () => {
        process.stdout.write('holding\\n');
        await new Promise(() => {});
      });`;
    const holder = spawn(process.execPath, ['--input-type=module', '-e', holderSource], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.teardown(() => {
      if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
    });
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on(
        'data',
        (chunk: Buffer) => chunk.toString().includes('holding') && resolve(),
      );
      holder.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
    });
    const holderExited = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await holderExited;

    await Promise.all(drivers);
    const elapsedMs = Date.now() - started;
    // a background refresh may still be on its way (2 s tokens are renewed every second or so):
    // closing waits for it, so the counts and the stored refresh token below are final
    await closeInstances();

    t.same(failures, [], 'zero failed getToken calls');
    t.ok(calls > 100, `the instances were driven (${calls} calls)`);
    const errors = oauth.grants.filter((g) => g.error !== undefined);
    t.same(errors, [], 'zero invalid_grant (or any other token endpoint error)');

    // One instance alone renews a 2 s token at least every 0.8 s: the token is attached for its
    // first second only (whole-second exp), and the refresh starts up to a tenth of the lifetime
    // (the lead for a slow fetch) before that second is up. That is the whole budget for all
    // three, plus the first token and slack.
    const lifetimeMs = ACCESS_TOKEN_SECONDS * 1000;
    const singleInstanceRequests = Math.ceil(elapsedMs / (lifetimeMs / 2 - lifetimeMs / 10));
    t.ok(
      oauth.tokenRequests <= singleInstanceRequests + 2,
      `${oauth.tokenRequests} token requests in ${elapsedMs} ms for three instances; one alone makes ${singleInstanceRequests}`,
    );
    const perInstance = instances.map((m) => m.status().tokenRequests);
    t.equal(
      perInstance.reduce((a, b) => a + b, 0),
      oauth.tokenRequests,
      `every token request came from one of the three (${perInstance.join(' + ')})`,
    );
    t.ok(perInstance.filter((n) => n > 0).length >= 2, 'the refreshing moved between instances');

    // no lost refresh token: the one in Redis is the live one, and redeeming it works
    const verifier = openStore();
    const stored = await verifier.load(STORE_KEY);
    t.ok(stored?.refreshToken, 'a refresh token is stored');
    t.not(stored?.refreshToken, firstRefreshToken, 'rotated since the start');
    const basic = Buffer.from(
      `${encodeURIComponent(CLIENTS.basic.clientId)}:${encodeURIComponent(CLIENTS.basic.clientSecret)}`,
    ).toString('base64');
    const redeemed = await request(oauth.tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: stored?.refreshToken ?? '',
      }).toString(),
    });
    const body = (await redeemed.body.json()) as { access_token?: string; error?: string };
    t.equal(
      redeemed.statusCode,
      200,
      `the stored refresh token is still valid (${body.error ?? 'ok'})`,
    );
    t.ok(body.access_token);

    const log = logLines.join('');
    t.match(log, 'lost the connection to Redis', 'the instances did see Redis go away');
    t.match(log, 'reconnected to Redis');
    const secrets = [firstRefreshToken, stored?.refreshToken ?? '', CLIENTS.basic.clientSecret];
    t.same(
      [...secrets, ...accessTokens].filter((secret) => log.includes(secret)),
      [],
      `no refresh token, client secret or any of the ${accessTokens.size} access tokens in the log`,
    );
  },
);
