import { existsSync, readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { FakeClock } from '../../lib/clock.js';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import {
  IMPERSONATION_GRANT,
  QLIK_CLIENT,
  startQlikCloud,
  type QlikCloudImitation,
} from '../fixtures/imitations/qlik-cloud.js';
import {
  call,
  capturingLogger,
  loadSample,
  startSampleProxy,
  waitFor,
} from '../fixtures/imitations/sample-harness.js';

const overrides = (origin: string, extra: Record<string, string> = {}) => ({
  HostName: origin,
  TokenURI: `POST ${origin}/oauth/token`,
  ClientID: QLIK_CLIENT.clientId,
  ClientSecret: QLIK_CLIENT.clientSecret,
  ...extra,
});

/** The shipped sample, pointed at the imitation (`extra` options on top). */
function loadAgainst(t: Test, cloud: QlikCloudImitation, extra?: Record<string, string>) {
  return loadSample(
    t,
    'qlik-cloud-impersonation.ini',
    'qlik-cloud',
    overrides(cloud.origin, extra),
  );
}

async function qlik(t: Test, opts: { now?: () => number } = {}): Promise<QlikCloudImitation> {
  const imitation = await startQlikCloud(opts);
  t.teardown(() => imitation.close());
  return imitation;
}

const asUser = (user: string): RequestInit => ({ headers: { 'x-tokenshim-user': user } });

t.test(
  'samples/qlik-cloud-impersonation.ini as shipped: custom grant, JSON body, per-user',
  async (t) => {
    const { dsn } = await loadSample(t, 'qlik-cloud-impersonation.ini', 'qlik-cloud');
    t.equal(dsn.grantType, IMPERSONATION_GRANT);
    t.equal(dsn.tokenRequestFormat, 'json');
    t.equal(dsn.clientCredentialsMode, 3);
    t.same(dsn.tokenParams, {
      kind: 'json',
      object: { user_lookup: { field: 'subject', value: '{user}' } },
    });
    t.equal(dsn.maxUserTokens, 1000);
    t.equal(dsn.exposeTokens, false, 'off unless the user turns it on');
    t.ok(createCredentialProvider(dsn).perUser);
  },
);

t.test(
  'token request as qlik.dev documents it: JSON with user_lookup, answer with expires_at',
  async (t) => {
    const clock = new FakeClock();
    const cloud = await qlik(t, { now: () => clock.now() });
    const { dsn } = await loadAgainst(t, cloud);
    const provider = createCredentialProvider(dsn, { clock });
    t.teardown(() => provider.close());

    const credential = await provider.credential({ user: 'auth0|a1b2c3' });
    const [req] = cloud.requestsTo('/oauth/token');
    t.equal(req!.method, 'POST');
    t.equal(req!.headers['content-type'], 'application/json');
    t.same(JSON.parse(req!.body), {
      grant_type: IMPERSONATION_GRANT,
      scope: 'user_default',
      user_lookup: { field: 'subject', value: 'auth0|a1b2c3' },
      client_id: QLIK_CLIENT.clientId,
      client_secret: QLIK_CLIENT.clientSecret,
    });
    t.equal(credential.user, 'auth0|a1b2c3');
    t.equal(credential.expiresAt, clock.now() + 6 * 3600 * 1000, 'lifetime read from expires_at');
    t.equal(credential.tokenType, 'Bearer', '"bearer" canonicalised');
  },
);

t.test(
  'a subject with quotes and backslashes is JSON-escaped into user_lookup, not spliced',
  async (t) => {
    const cloud = await qlik(t);
    const { dsn } = await loadAgainst(t, cloud);
    const provider = createCredentialProvider(dsn);
    t.teardown(() => provider.close());
    const odd = 'o"hara\\x","field":"email';
    await provider.credential({ user: odd });
    t.same(cloud.tokenBodies[0]!['user_lookup'], { field: 'subject', value: odd });
  },
);

t.test('through the proxy: X-Tokenshim-User picks the token and never reaches Qlik', async (t) => {
  const cloud = await qlik(t);
  const { dsn } = await loadAgainst(t, cloud);
  const proxy = await startSampleProxy(t, [dsn]);
  for (const user of ['alice', 'bob', 'alice']) {
    const res = await call(proxy.url('qlik-cloud', '/api/v1/users/me'), asUser(user));
    t.equal(res.status, 200);
    t.equal(res.json<{ subject: string }>().subject, user, `${user}'s own token`);
  }
  t.equal(cloud.tokensIssued, 2, 'alice reused her cached token');
  t.ok(
    cloud.requestsTo('/api/v1/users/me').every((r) => r.headers['x-tokenshim-user'] === undefined),
  );

  const missing = await call(proxy.url('qlik-cloud', '/api/v1/users/me'));
  t.equal(missing.status, 400);
  t.match(missing.headers.get('content-type'), /application\/problem\+json/);
  t.match(missing.json(), {
    code: 'TOKENSHIM_USER_REQUIRED',
    dsn: 'qlik-cloud',
    detail: /X-Tokenshim-User/,
  });
  t.equal(
    cloud.requestsTo('/api/v1/users/me').length,
    3,
    'the request without a user went nowhere',
  );
});

t.test(
  '5,000 users with MaxUserTokens=1000: at most 1000 held, evicted users get a new token',
  async (t) => {
    const cloud = await qlik(t);
    const { dsn, tokenFile } = await loadAgainst(t, cloud);
    const provider = createCredentialProvider(dsn);
    t.teardown(() => provider.close());
    const users = Array.from({ length: 5000 }, (_, i) => `user-${i}`);
    const tokenOf = async (user: string) => {
      const credential = await provider.credential({ user });
      if (
        credential.user !== user ||
        !cloud.issuedFor.get(user)?.includes(credential.accessToken!)
      ) {
        t.fail(`${user} was handed a token issued for someone else`);
      }
    };

    for (let i = 0; i < users.length; i += 50)
      await Promise.all(users.slice(i, i + 50).map(tokenOf));
    t.equal(cloud.tokensIssued, 5000, 'one token per user, each for its own subject');

    // the 1000 most recent users are held: asking again costs no token request
    for (let i = 4000; i < 5000; i += 50) await Promise.all(users.slice(i, i + 50).map(tokenOf));
    t.equal(cloud.tokensIssued, 5000, 'users 4000-4999 all served from the cache');
    // user 3999 was evicted when user 4999 arrived: a new token, which evicts the least recent (4000)
    await tokenOf('user-3999');
    t.equal(cloud.tokensIssued, 5001);
    t.equal(cloud.issuedFor.get('user-3999')!.length, 2, 'a second token for the evicted user');
    await tokenOf('user-4999');
    t.equal(cloud.tokensIssued, 5001, 'user 4999 is still held');
    await tokenOf('user-4000');
    t.equal(cloud.tokensIssued, 5002, 'user 4000 made room for user 3999');
    t.notOk(
      existsSync(tokenFile) && readFileSync(tokenFile, 'utf8').includes('#user='),
      "per-user tokens are not written to the DSN's token store",
    );
  },
);

t.test(
  'per-user cache through the proxy: 300 users, MaxUserTokens=100, each sees its own subject',
  async (t) => {
    const cloud = await qlik(t);
    const { dsn } = await loadAgainst(t, cloud, { MaxUserTokens: '100' });
    const proxy = await startSampleProxy(t, [dsn]);
    const users = Array.from({ length: 300 }, (_, i) => `person-${i}`);
    const subjectSeen = async (user: string) => {
      const res = await call(proxy.url('qlik-cloud', '/api/v1/users/me'), asUser(user));
      return res.json<{ subject: string }>().subject;
    };
    for (let i = 0; i < users.length; i += 25) {
      const seen = await Promise.all(users.slice(i, i + 25).map(subjectSeen));
      t.same(seen, users.slice(i, i + 25), `users ${i}-${i + 24} each answered as themselves`);
    }
    t.equal(cloud.tokensIssued, 300);
    for (let i = 200; i < 300; i += 25) await Promise.all(users.slice(i, i + 25).map(subjectSeen));
    t.equal(cloud.tokensIssued, 300, 'the last 100 users are held');
    t.equal(await subjectSeen('person-0'), 'person-0');
    t.equal(cloud.tokensIssued, 301, 'the first user was evicted long ago: a new token');
  },
);

t.test('each user is refreshed ahead of expiry like any other token', async (t) => {
  const clock = new FakeClock();
  const cloud = await qlik(t, { now: () => clock.now() });
  const { dsn } = await loadAgainst(t, cloud);
  const proxy = await startSampleProxy(t, [dsn], { clock });
  for (const user of ['ann', 'ben', 'cat'])
    t.equal((await call(proxy.url('qlik-cloud', '/api/v1/users/me'), asUser(user))).status, 200);

  // 6 h tokens, RefreshMargin 300 s: at 6 h - 200 s each user's token is replaced in the background
  clock.advance((6 * 3600 - 200) * 1000);
  await waitFor(
    () => ['ann', 'ben', 'cat'].every((u) => cloud.issuedFor.get(u)!.length === 2),
    'three background refreshes',
  );
  const res = await call(proxy.url('qlik-cloud', '/api/v1/users/me'), asUser('ben'));
  t.equal(res.json<{ subject: string }>().subject, 'ben');
  t.equal(
    cloud.requestsTo('/api/v1/users/me').at(-1)!.headers.authorization,
    `Bearer ${cloud.issuedFor.get('ben')![1]}`,
  );
  t.equal(cloud.tokensIssued, 6);
});

t.test(
  'POST /_tokenshim/token/<DSN> (ExposeTokens=1): a token for a user, only with the AdminKey',
  async (t) => {
    const cloud = await qlik(t);
    const adminKey = 'admin-key-0123456789-abcdefghij';
    const log = capturingLogger();
    const { dsn } = await loadAgainst(t, cloud, { ExposeTokens: '1', AdminKey: adminKey });
    const proxy = await startSampleProxy(t, [dsn], { logger: log.logger });
    const endpoint = `${proxy.server.url}/_tokenshim/token/qlik-cloud`;
    const post = (headers: Record<string, string>) => call(endpoint, { method: 'POST', headers });

    const ok = await post({ 'x-tokenshim-admin-key': adminKey, 'x-tokenshim-user': 'embed-user' });
    t.equal(ok.status, 200);
    t.equal(ok.headers.get('cache-control'), 'no-store');
    const body = ok.json<{ access_token: string; token_type: string; expires_in: number }>();
    t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
    t.equal(body.access_token, cloud.issuedFor.get('embed-user')![0]);
    t.equal(body.token_type, 'Bearer');
    t.ok(body.expires_in > 5 * 3600 && body.expires_in <= 6 * 3600, 'seconds left of a 6 h token');
    const proxied = await call(proxy.url('qlik-cloud', '/api/v1/users/me'), asUser('embed-user'));
    t.equal(proxied.status, 200);
    t.equal(cloud.tokensIssued, 1, 'the proxy and the token route share one cache');

    const wrong = await post({
      'x-tokenshim-admin-key': `${adminKey}x`,
      'x-tokenshim-user': 'embed-user',
    });
    t.equal(wrong.status, 401);
    t.match(wrong.json(), { code: 'TOKENSHIM_ADMIN_KEY', dsn: 'qlik-cloud' });
    t.notOk(wrong.text.includes(adminKey), 'the key is not echoed');
    t.equal(
      (await post({ 'x-tokenshim-admin': '1', 'x-tokenshim-user': 'embed-user' })).status,
      401,
      'no key',
    );
    const noHeader = await post({ 'x-tokenshim-user': 'embed-user' });
    t.equal(noHeader.status, 403, 'no key and no admin header: not even looked at');
    t.match(noHeader.json(), { code: 'TOKENSHIM_ADMIN', detail: /X-Tokenshim-Admin/i });
    const noUser = await post({ 'x-tokenshim-admin-key': adminKey });
    t.equal(noUser.status, 400);
    t.match(noUser.json(), { code: 'TOKENSHIM_USER_REQUIRED' });
    t.equal(
      (await call(endpoint, { headers: { 'x-tokenshim-admin-key': adminKey } })).status,
      405,
      'POST only',
    );
    t.equal((await post({ 'x-tokenshim-admin-key': adminKey })).status, 400);
    const unknown = await call(`${proxy.server.url}/_tokenshim/token/nope`, {
      method: 'POST',
      headers: { 'x-tokenshim-admin': '1' },
    });
    t.equal(unknown.status, 404);
    t.match(unknown.json(), { code: 'TOKENSHIM_UNKNOWN_DSN' });
    for (const secret of [adminKey, QLIK_CLIENT.clientSecret, body.access_token]) {
      t.notOk(log.text().includes(secret), 'not in the log');
    }
  },
);

t.test('POST /_tokenshim/token/<DSN> is refused for a DSN without ExposeTokens', async (t) => {
  const cloud = await qlik(t);
  const { dsn } = await loadAgainst(t, cloud, { AdminKey: 'some-admin-key-012345' });
  const proxy = await startSampleProxy(t, [dsn]);
  const res = await call(`${proxy.server.url}/_tokenshim/token/qlik-cloud`, {
    method: 'POST',
    headers: { 'x-tokenshim-admin-key': 'some-admin-key-012345', 'x-tokenshim-user': 'x' },
  });
  t.equal(res.status, 403);
  t.match(res.json(), { code: 'TOKENSHIM_TOKENS_NOT_EXPOSED', detail: /ExposeTokens=1/ });
  t.equal(cloud.tokensIssued, 0);
});

t.test('ExposeTokens=1 without an AdminKey does not load', async (t) => {
  await t.rejects(
    loadSample(t, 'qlik-cloud-impersonation.ini', 'qlik-cloud', { ExposeTokens: '1' }),
    /ExposeTokens=1 needs an AdminKey/,
  );
});

t.test(
  "a wrong client secret: Qlik's error detail quoted, the DSN named, no secret anywhere",
  async (t) => {
    const cloud = await qlik(t);
    const log = capturingLogger();
    const { dsn } = await loadAgainst(t, cloud, { ClientSecret: 'not-the-qlik-secret-0123' });
    const proxy = await startSampleProxy(t, [dsn], { logger: log.logger });
    const res = await call(proxy.url('qlik-cloud', '/api/v1/users/me'), asUser('alice'));
    t.equal(res.status, 502);
    const problem = res.json<{ dsn: string; detail: string }>();
    t.equal(problem.dsn, 'qlik-cloud');
    t.match(problem.detail, /401/);
    t.match(problem.detail, /client authentication failed/);
    for (const secret of ['not-the-qlik-secret-0123', QLIK_CLIENT.clientSecret]) {
      t.notOk(res.text.includes(secret), 'not in the response');
      t.notOk(log.text().includes(secret), 'not in the log');
    }
  },
);

t.test(
  "a 401 for one user's token refreshes that user only, and the request is replayed",
  async (t) => {
    const cloud = await qlik(t);
    const { dsn } = await loadAgainst(t, cloud);
    const proxy = await startSampleProxy(t, [dsn]);
    const me = (user: string) => call(proxy.url('qlik-cloud', '/api/v1/users/me'), asUser(user));
    t.equal((await me('alice')).status, 200);
    t.equal((await me('bob')).status, 200);
    cloud.revokeTokensOf('alice');
    const again = await me('alice');
    t.equal(again.status, 200);
    t.equal(again.json<{ subject: string }>().subject, 'alice');
    t.equal(cloud.issuedFor.get('alice')!.length, 2, 'alice got a new token');
    t.equal((await me('bob')).status, 200);
    t.equal(cloud.issuedFor.get('bob')!.length, 1, "bob's token was not touched");
  },
);
