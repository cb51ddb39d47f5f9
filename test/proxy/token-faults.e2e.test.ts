/**
 * The whole proxy (startTokenshim: the real token engine, admin routes, reload) against the fault
 * token server and an upstream that records which credential each request carried: reload with a
 * new RefreshToken while a request is in flight, an upstream that rejects everything, a full
 * disk seen by /ready, and Prefetch=1.
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { FileTokenStore } from '../../lib/auth/stores/file-store.js';
import { startTokenshim } from '../../lib/app/start-tokenshim.js';
import type { DsnConfig } from '../../lib/config/dsn.js';
import type { TokenshimServer } from '../../lib/proxy/server.js';
import { fillableStore, until } from '../auth/token/fault-harness.js';
import { startCredentialUpstream } from '../fixtures/credential-upstream.js';
import {
  FAULT_CLIENT,
  startFaultTokenServer,
  type FaultTokenServer,
} from '../fixtures/fault-token-server.js';
import { makeDsn, type DsnOverrides } from '../fixtures/make-dsn.js';
import { tempDir } from '../fixtures/temp-config.js';

function dsnFor(
  ts: FaultTokenServer,
  upstream: string,
  refreshToken: string,
  o: DsnOverrides = {},
): DsnConfig {
  return makeDsn({
    name: 'crm',
    method: 54,
    clientId: FAULT_CLIENT.id,
    clientSecret: FAULT_CLIENT.secret,
    refreshToken,
    tokenEndpoint: { method: 'POST', url: new URL(ts.tokenEndpoint) },
    upstream: new URL(upstream),
    ...o,
  });
}

async function proxy(
  t: Test,
  dsns: readonly DsnConfig[],
  o: Partial<Parameters<typeof startTokenshim>[0]> = {},
): Promise<TokenshimServer> {
  const server = await startTokenshim({ dsns, port: 0, env: {}, processMetrics: false, ...o });
  t.teardown(() => server.close({ drainMs: 0 }));
  return server;
}

async function get(
  url: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  const res = await request(url, { method: init.method ?? 'GET', headers: init.headers ?? {} });
  return { status: res.statusCode, body: await res.body.text() };
}

t.test(
  'reload with a new RefreshToken while a request is in flight: the old chain is never used or written again',
  async (t) => {
    const ts = await startFaultTokenServer(t);
    let releaseSlow!: () => void;
    const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));
    const up = await startCredentialUpstream(t, ts);
    // /slow holds its answer, then rejects the token it carried (as a revocation would)
    const uses = up.uses;
    const slowTokens: string[] = [];
    up.upstream.server.removeAllListeners('request');
    up.upstream.server.on('request', (req, res) => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const slow = (req.url ?? '').endsWith('/slow');
      req.resume();
      if (slow) {
        slowTokens.push(token);
        void slowReleased.then(() => res.writeHead(401).end());
        return;
      }
      const ok = ts.accepts(token);
      uses.push({ token, chain: ts.chainOf(token), status: ok ? 200 : 401 });
      res.writeHead(ok ? 200 : 401).end();
    });
    const store = join(tempDir(t).dir, 'tokens.json');
    const oldRt = ts.issueRefreshToken();
    const server = await proxy(t, [dsnFor(ts, up.origin, oldRt, { tokenStore: store })]);
    t.equal((await get(`${server.url}/crm/a`)).status, 200);
    const inFlight = get(`${server.url}/crm/slow`);
    await until('the slow request reached the upstream', () => slowTokens.length === 1);

    const newRt = ts.issueRefreshToken();
    await server.reload([dsnFor(ts, up.origin, newRt, { tokenStore: store })]);
    const usesBefore = uses.length;
    const outcomesBefore = ts.outcomes.length;
    for (let i = 0; i < 5; i++) t.equal((await get(`${server.url}/crm/b`)).status, 200);
    releaseSlow();
    const slow = await inFlight;
    t.equal(slow.status, 503, 'the retired DSN does not refresh for its in-flight request');
    t.match(JSON.parse(slow.body), { code: 'TOKENSHIM_DSN_RELOADED' });

    t.same(
      slowTokens.map((tok) => ts.chainOf(tok)),
      [oldRt],
      'the in-flight request, sent once',
    );
    t.same(
      uses.slice(usesBefore).map((u) => [u.chain, u.status]),
      Array.from({ length: 5 }, () => [newRt, 200]),
      'every request after the reload carried the new credential',
    );
    t.same(
      [...new Set(ts.outcomes.slice(outcomesBefore).map((o) => o.chain))],
      [newRt],
      'no token request of the old chain after the reload',
    );
    const stored = await new FileTokenStore(store).load('crm');
    t.equal(stored?.refreshToken, ts.latestRefreshToken(newRt), 'the store holds the new chain');

    // kill -9 and restart: the new chain, no reuse, never back to the replaced credential
    await server.close({ drainMs: 0 });
    const restarted = await proxy(t, [dsnFor(ts, up.origin, newRt, { tokenStore: store })]);
    t.equal((await get(`${restarted.url}/crm/c`)).status, 200);
    t.equal(uses.at(-1)?.chain, newRt);
    t.equal(ts.reuse, 0);
  },
);

t.test(
  'an upstream that answers 401 to everything costs a couple of token requests, not two per request',
  async (t) => {
    const ts = await startFaultTokenServer(t);
    const up = await startCredentialUpstream(t, ts, 'reject');
    const server = await proxy(t, [
      dsnFor(ts, up.origin, ts.issueRefreshToken(), {
        tokenStore: join(tempDir(t).dir, 'tokens.json'),
      }),
    ]);
    for (let i = 0; i < 10; i++) t.equal((await get(`${server.url}/crm/x`)).status, 401);
    t.ok(ts.tokenRequests <= 2, `${ts.tokenRequests} token requests for 10 rejected requests`);
    // twenty clients at once, twice
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => get(`${server.url}/crm/x`)),
      );
      t.ok(answers.every((a) => a.status === 401));
    }
    t.ok(ts.tokenRequests <= 3, `${ts.tokenRequests} token requests for 50 rejected requests`);
    t.equal(ts.reuse, 0);
  },
);

t.test(
  'a rotated refresh token that cannot be saved: /ready says 503 with the reason until it is saved',
  { skip: process.platform === 'linux' ? false : 'the disk-full store writes to /dev/full' },
  async (t) => {
    const ts = await startFaultTokenServer(t);
    const up = await startCredentialUpstream(t, ts);
    const disk = fillableStore(t);
    const server = await proxy(t, [dsnFor(ts, up.origin, ts.issueRefreshToken())], {
      store: disk.store,
    });
    t.equal((await get(`${server.url}/_tokenshim/ready`)).status, 200);
    disk.full = true;
    t.equal(
      (
        await get(`${server.url}/_tokenshim/refresh/crm`, {
          method: 'POST',
          headers: { 'x-tokenshim-admin': '1' },
        })
      ).status,
      200,
    );
    const ready = await get(`${server.url}/_tokenshim/ready`);
    t.equal(ready.status, 503);
    t.match(JSON.parse(ready.body), {
      failing: ['crm'],
      dsns: [{ dsn: 'crm', ready: false, reason: /not saved yet.*is full \(ENOSPC\)/ }],
    });
    const status = JSON.parse((await get(`${server.url}/_tokenshim/status?format=json`)).body);
    t.match(status.dsns[0].token.unsaved, /ENOSPC/);
    t.equal((await get(`${server.url}/crm/x`)).status, 200, 'the access token is still served');
    disk.full = false;
    await until(
      'the owed save went through',
      () => server.provider('crm')?.status().unsaved === undefined,
    );
    t.equal((await get(`${server.url}/_tokenshim/ready`)).status, 200);
    t.equal(ts.reuse, 0);
  },
);

t.test(
  'Prefetch=1: a token at start with no request; a failing endpoint is reported, not fatal',
  async (t) => {
    const ts = await startFaultTokenServer(t);
    const up = await startCredentialUpstream(t, ts);
    ts.setFault({ kind: 'status', status: 503 });
    const server = await proxy(t, [
      dsnFor(ts, up.origin, ts.issueRefreshToken(), {
        prefetch: true,
        tokenStore: join(tempDir(t).dir, 'tokens.json'),
      }),
    ]);
    await until('the prefetch was tried', () => ts.tokenRequests >= 1);
    await until('and failed', () => server.provider('crm')?.status().state === 'failing');
    const ready = await get(`${server.url}/_tokenshim/ready`);
    t.equal(ready.status, 503);
    t.match(JSON.parse(ready.body), {
      dsns: [{ dsn: 'crm', ready: false, reason: /answered 503/ }],
    });
    ts.clearFault();
    await until(
      'a retry in the background got the token',
      () => server.provider('crm')?.status().state === 'valid',
    );
    t.equal(up.uses.length, 0, 'no request was needed');
    t.equal((await get(`${server.url}/_tokenshim/ready`)).status, 200);
  },
);
