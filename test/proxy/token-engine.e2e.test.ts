import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { startServer } from '../../lib/proxy/server.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { CLIENTS, startOAuthServer, type OAuthServer } from '../fixtures/oauth-server.js';
import { tempDir } from '../fixtures/temp-config.js';
import { startUpstream } from '../fixtures/upstream.js';

// The proxy with the real token engine (lib/auth/provider.ts, startServer's default) against a
// real OAuth server (oidc-provider, rotating refresh tokens): the first request a user makes works.

async function isIssued(oauth: OAuthServer, token: string): Promise<boolean> {
  const model = oauth.provider.AccessToken as unknown as { find(v: string): Promise<unknown> };
  return (await model.find(token)) !== undefined;
}

t.test(
  'RefreshToken DSN: the first request gets a real token; 100 concurrent first requests share one token request',
  async (t) => {
    const oauth = await startOAuthServer({ accessTokenTtlSeconds: 3600 });
    t.teardown(() => oauth.close());
    const dir = tempDir(t);
    const seen: string[] = [];
    const up = await startUpstream(t, {
      handler: async (req, res) => {
        const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        seen.push(token);
        const ok = await isIssued(oauth, token);
        res.writeHead(ok ? 200 : 401, { 'content-type': 'text/plain' });
        res.end(ok ? 'hello' : 'who are you');
      },
    });
    const refreshToken = await oauth.issueRefreshToken(
      CLIENTS.basic.clientId,
      'openid offline_access api',
    );
    const dsn = makeDsn({
      name: 'crm',
      method: 54,
      upstream: new URL(`${up.origin}/api`),
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      refreshToken,
      scope: 'openid offline_access api',
      tokenEndpoint: { method: 'POST', url: new URL(oauth.tokenEndpoint) },
      tokenStore: join(dir.dir, 'tokens.json'),
    });
    const server = await startServer({ dsns: [dsn], port: 0, env: {} });
    t.teardown(() => server.close({ drainMs: 0 }));

    const results = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const res = await request(`${server.url}/crm/me`);
        return `${res.statusCode} ${await res.body.text()}`;
      }),
    );
    t.same(new Set(results), new Set(['200 hello']));
    t.equal(oauth.tokenRequests, 1, 'single flight: one token request for 100 first requests');
    t.match(oauth.grants[0], {
      grantType: 'refresh_token',
      clientAuthMethod: 'client_secret_basic',
      error: undefined,
    });
    t.equal(new Set(seen).size, 1);
    t.equal(up.requests[0]!.url, '/api/me');
  },
);

t.test(
  'a token the upstream rejects is refreshed once through the rotating refresh token and the request replayed',
  async (t) => {
    const oauth = await startOAuthServer({ accessTokenTtlSeconds: 3600 });
    t.teardown(() => oauth.close());
    const dir = tempDir(t);
    let revoked: string | undefined;
    const up = await startUpstream(t, {
      handler: async (req, res, recorded) => {
        const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        // the first token is "revoked" upstream
        revoked ??= token;
        const ok = token !== revoked && (await isIssued(oauth, token));
        res.writeHead(ok ? 200 : 401);
        res.end(ok ? recorded.body : '');
      },
    });
    const dsn = makeDsn({
      name: 'crm',
      method: 54,
      upstream: new URL(up.origin),
      clientId: CLIENTS.post.clientId,
      clientSecret: CLIENTS.post.clientSecret,
      clientCredentialsMode: 3,
      refreshToken: await oauth.issueRefreshToken(
        CLIENTS.post.clientId,
        'openid offline_access api',
      ),
      tokenEndpoint: { method: 'POST', url: new URL(oauth.tokenEndpoint) },
      tokenStore: join(dir.dir, 'tokens.json'),
    });
    const server = await startServer({ dsns: [dsn], port: 0, env: {} });
    t.teardown(() => server.close({ drainMs: 0 }));
    const res = await request(`${server.url}/crm/orders`, { method: 'POST', body: '{"n":1}' });
    t.equal(res.statusCode, 200);
    t.equal(await res.body.text(), '{"n":1}');
    t.equal(oauth.tokenRequests, 2, 'the first token, then one refresh');
    t.same(
      oauth.grants.map((g) => [g.grantType, g.error]),
      [
        ['refresh_token', undefined],
        ['refresh_token', undefined],
      ],
      'the rotated refresh token was used for the second request (reuse would be invalid_grant)',
    );
    t.equal(up.requests.length, 2);
  },
);

t.test(
  'a refresh token the server refuses: 502 naming `tokenshim login`, with the OAuth error, no secret',
  async (t) => {
    const oauth = await startOAuthServer();
    t.teardown(() => oauth.close());
    const dir = tempDir(t);
    const up = await startUpstream(t);
    const dsn = makeDsn({
      name: 'crm',
      method: 54,
      upstream: new URL(up.origin),
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      refreshToken: 'not-a-refresh-token-7f3a9c',
      tokenEndpoint: { method: 'POST', url: new URL(oauth.tokenEndpoint) },
      tokenStore: join(dir.dir, 'tokens.json'),
    });
    const server = await startServer({ dsns: [dsn], port: 0, env: {} });
    t.teardown(() => server.close({ drainMs: 0 }));
    const res = await request(`${server.url}/crm/x`);
    const text = await res.body.text();
    t.equal(res.statusCode, 502);
    t.equal(res.headers['content-type'], 'application/problem+json');
    const problem = JSON.parse(text) as { code: string; detail: string; dsn: string };
    t.equal(problem.code, 'TOKENSHIM_NEEDS_LOGIN');
    t.equal(problem.dsn, 'crm');
    t.match(problem.detail, 'tokenshim login crm');
    t.match(problem.detail, 'invalid_grant');
    t.notMatch(text, 'not-a-refresh-token-7f3a9c');
    t.notMatch(text, CLIENTS.basic.clientSecret);
    t.equal(up.requests.length, 0);
  },
);
