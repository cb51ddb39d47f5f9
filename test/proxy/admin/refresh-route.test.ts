/**
 * POST /_tokenshim/refresh/<DSN>: the running proxy replaces a DSN's token now and uses the new
 * one at once; the answer says when it expires, never what it is.
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startTokenshim } from '../../../lib/app/start-tokenshim.js';
import { FileTokenStore } from '../../../lib/auth/stores/file-store.js';
import type { DsnConfig } from '../../../lib/config/dsn.js';
import { refreshRoute } from '../../../lib/proxy/admin/refresh-route.js';
import type { TokenshimServer } from '../../../lib/proxy/server.js';
import { startCredentialUpstream } from '../../fixtures/credential-upstream.js';
import { FAULT_CLIENT, startFaultTokenServer } from '../../fixtures/fault-token-server.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { tempDir } from '../../fixtures/temp-config.js';

async function proxy(t: Test, dsns: readonly DsnConfig[]): Promise<TokenshimServer> {
  const server = await startTokenshim({ dsns, port: 0, env: {}, processMetrics: false });
  t.teardown(() => server.close({ drainMs: 0 }));
  return server;
}

async function post(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  // the header every admin POST needs (a web page cannot send it from another site)
  const res = await request(url, { method: 'POST', headers: { 'x-tokenshim-admin': '1' } });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

t.test('replaces a valid token; the next request carries the new one', async (t) => {
  const ts = await startFaultTokenServer(t);
  const up = await startCredentialUpstream(t, ts);
  const store = join(tempDir(t).dir, 'tokens.json');
  const rt = ts.issueRefreshToken();
  const server = await proxy(t, [
    makeDsn({
      name: 'crm',
      method: 54,
      clientId: FAULT_CLIENT.id,
      clientSecret: FAULT_CLIENT.secret,
      refreshToken: rt,
      tokenEndpoint: { method: 'POST', url: new URL(ts.tokenEndpoint) },
      upstream: new URL(up.origin),
      tokenStore: store,
    }),
  ]);
  await (await request(`${server.url}/crm/a`)).body.dump();
  const before = up.uses.at(-1)!.token;

  const answer = await post(`${server.url}/_tokenshim/refresh/crm`);
  t.equal(answer.status, 200);
  t.match(answer.body, {
    status: 'refreshed',
    dsn: 'crm',
    expiresAt: /^\d{4}-\d\d-\d\dT/,
    tokenRequests: 2,
  });
  const issued = [before, `at-1-2`, rt, ts.latestRefreshToken(rt)!];
  t.notOk(
    issued.some((secret) => JSON.stringify(answer.body).includes(secret)),
    'no token in the answer',
  );

  await (await request(`${server.url}/crm/b`)).body.dump();
  const after = up.uses.at(-1)!;
  t.not(after.token, before, 'the new token is used at once');
  t.equal(after.status, 200);
  const stored = await new FileTokenStore(store).load('crm');
  t.equal(stored?.refreshToken, ts.latestRefreshToken(rt), 'the rotated refresh token is saved');
  t.equal(ts.reuse, 0);
});

t.test(
  'refusals: unknown DSN, static credential, wrong method, per-user without a user',
  async (t) => {
    const ts = await startFaultTokenServer(t);
    const server = await proxy(t, [
      makeDsn({ name: 'legacy', method: 34, securityToken: 'static-token-value' }),
      makeDsn({
        name: 'people',
        method: 53,
        clientId: FAULT_CLIENT.id,
        clientSecret: FAULT_CLIENT.secret,
        tokenEndpoint: { method: 'POST', url: new URL(ts.tokenEndpoint) },
        tokenParams: { kind: 'form', pairs: [['subject', '{user}']] },
      }),
    ]);
    const bare = await request(`${server.url}/_tokenshim/refresh/people`, { method: 'POST' });
    t.match(await bare.body.json(), { code: 'TOKENSHIM_ADMIN', status: 403 });
    t.equal(bare.statusCode, 403, 'without X-Tokenshim-Admin, as a form post from a page would be');
    const unknown = await post(`${server.url}/_tokenshim/refresh/nope`);
    t.match(unknown, {
      status: 404,
      body: { code: 'TOKENSHIM_UNKNOWN_DSN', dsns: ['legacy', 'people'] },
    });
    const legacy = await post(`${server.url}/_tokenshim/refresh/legacy`);
    t.match(legacy, {
      status: 409,
      body: { code: 'TOKENSHIM_NOTHING_TO_REFRESH', detail: /static credential/ },
    });
    t.notMatch(JSON.stringify(legacy.body), 'static-token-value');
    const perUser = await post(`${server.url}/_tokenshim/refresh/people`);
    t.match(perUser, { status: 400, body: { code: 'TOKENSHIM_USER_REQUIRED' } });
    const res = await request(`${server.url}/_tokenshim/refresh/legacy`);
    t.equal(res.statusCode, 405);
    t.equal(res.headers.allow, 'POST');
    await res.body.dump();
    t.notOk(
      refreshRoute.public,
      'like reload: only for this machine, or a caller with an AdminKey',
    );
    t.equal(ts.tokenRequests, 0);
  },
);
