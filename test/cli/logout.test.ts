/**
 * `tokenshim logout` against oidc-provider's revocation endpoint (RFC 7009), with the file store
 * the proxy uses and with Redis: the tokens are revoked (the server refuses them afterwards),
 * replaced by a logout entry, and neither a restart nor a running token engine uses them again.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { openTokenStore } from '../../lib/auth/stores/open-token-store.js';
import { runLogout } from '../../lib/cli/logout.js';
import { FakeClock } from '../../lib/clock.js';
import { loadConfig } from '../../lib/config/load.js';
import { captureIo } from '../fixtures/capture-io.js';
import { CLIENTS, startOAuthServer, type OAuthServer } from '../fixtures/oauth-server.js';
import { redisSkipReason, startRedisServer } from '../fixtures/redis-server.js';
import { tempDir } from '../fixtures/temp-config.js';

async function oauthServer(t: Test): Promise<OAuthServer> {
  const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
  t.teardown(() => server.close());
  return server;
}

async function configFor(
  t: Test,
  server: OAuthServer,
  extra: string[],
): Promise<{ config: string; refreshToken: string }> {
  const refreshToken = await server.issueRefreshToken(CLIENTS.basic.clientId);
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    [
      '[crm]',
      'AuthenticationMethod=54',
      `ClientID=${CLIENTS.basic.clientId}`,
      `ClientSecret=${CLIENTS.basic.clientSecret}`,
      `RefreshToken=${refreshToken}`,
      `TokenURI=POST ${server.tokenEndpoint}`,
      'HostName=https://api.example.com',
      ...extra,
      '',
    ].join('\n'),
  );
  return { config, refreshToken };
}

async function dsnOf(config: string) {
  return (await loadConfig({ configPath: config })).dsns[0]!;
}

/**
 * An OAuth server, a DSN with `extra` options, and one token fetched by the proxy's token engine
 * (it rotated the refresh token and stored an access token beside the config).
 */
async function loggedIn(t: Test, extra: (server: OAuthServer) => string[] | Promise<string[]>) {
  const server = await oauthServer(t);
  const { config } = await configFor(t, server, await extra(server));
  const dsn = await dsnOf(config);
  const provider = createCredentialProvider(dsn, { configPath: config });
  await provider.credential();
  await provider.close();
  return { server, config, dsn };
}

/** Whether the server still takes this access token (userinfo, RFC 6750 bearer). */
async function accessTokenWorks(server: OAuthServer, accessToken: string): Promise<boolean> {
  const res = await fetch(`${server.issuer}/me`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  await res.arrayBuffer();
  return res.status === 200;
}

/** Whether the server still redeems this refresh token. */
async function refreshTokenWorks(server: OAuthServer, refreshToken: string): Promise<boolean> {
  const res = await fetch(server.tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(
        `${encodeURIComponent(CLIENTS.basic.clientId)}:${new URLSearchParams([['', CLIENTS.basic.clientSecret]]).toString().slice(1)}`,
      ).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  await res.arrayBuffer();
  return res.status === 200;
}

t.test(
  'logout revokes the refresh token, then the access token, and clears the file store',
  async (t) => {
    const server = await oauthServer(t);
    const { config, refreshToken } = await configFor(t, server, [
      `RevokeURI=${server.revocationEndpoint}`,
    ]);
    const dsn = await dsnOf(config);
    const clock = new FakeClock(Date.now());
    // a running token engine: it has rotated the refresh token and holds an access token
    const running = createCredentialProvider(dsn, { configPath: config, clock });
    t.teardown(() => running.close());
    const { accessToken } = await running.credential();
    const store = openTokenStore(dsn, config);
    const rotated = (await store.load('crm'))!.refreshToken!;
    t.not(rotated, refreshToken);
    t.ok(await accessTokenWorks(server, accessToken!), 'the access token works before');

    const io = captureIo();
    t.equal(await runLogout(['crm', '--config', config], io), 0, io.err());
    t.match(
      io.out(),
      /Revoked the refresh token and the access token at POST http:\/\/127\.0\.0\.1:\d+\/token\/revocation\./,
    );
    t.match(
      io.out(),
      /Logged out: the tokens of DSN "crm" are cleared from file .*odbc\.ini\.tokens\.json/,
    );
    t.match(io.out(), /RefreshToken in \[crm\] is not used again/);
    t.equal(server.revocationRequests, 2);
    t.notOk(await refreshTokenWorks(server, rotated), 'the server refuses the refresh token');
    t.notOk(await accessTokenWorks(server, accessToken!), 'and the access token');

    const entry = await store.load('crm');
    t.match(entry, { loggedOutAt: Number });
    t.equal(entry?.refreshToken, undefined);
    t.equal(entry?.accessToken, undefined);
    for (const secret of [refreshToken, rotated, accessToken!, CLIENTS.basic.clientSecret]) {
      t.notMatch(io.out() + io.err(), secret, 'no token or secret printed');
    }

    const before = server.tokenRequests;
    // the running engine, at its next token request, does not redeem what it holds
    clock.advance(600_000);
    const err = (await running.credential().catch((e: unknown) => e)) as Error;
    t.match(err, { code: 'TOKENSHIM_NEEDS_LOGIN', message: /logged out with tokenshim logout/ });
    // nor does a restart redeem the config's RefreshToken the logout descends from
    const restarted = createCredentialProvider(dsn, { configPath: config, clock });
    t.teardown(() => restarted.close());
    t.match(await restarted.credential().catch((e: unknown) => e), {
      code: 'TOKENSHIM_NEEDS_LOGIN',
    });
    t.equal(server.tokenRequests, before, 'no token request after the logout');
    t.match(await store.load('crm'), { loggedOutAt: Number }, 'and nothing was written back');

    const again = captureIo();
    t.equal(await runLogout(['crm', '--config', config], again), 0);
    t.match(again.out(), /DSN "crm" holds no tokens in .*: nothing to log out/);
  },
);

t.test(
  'without RevokeURI the tokens are cleared here and the warning says what that means',
  async (t) => {
    const { server, config, dsn } = await loggedIn(t, () => []);
    const io = captureIo();
    t.equal(await runLogout(['crm', '--config', config], io), 0);
    t.match(
      io.err(),
      /RevokeURI is not set, so the tokens were cleared here but not revoked at the provider/,
    );
    t.equal(server.revocationRequests, 0);
    t.match(await openTokenStore(dsn, config).load('crm'), { loggedOutAt: Number });
  },
);

/** A revocation endpoint that answers each token type as told. */
async function revocationEndpoint(
  t: Test,
  answers: Record<string, { status: number; body: unknown }>,
): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const hint = new URLSearchParams(body).get('token_type_hint') ?? '';
      const answer = answers[hint] ?? { status: 200, body: '' };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/revoke`;
}

t.test('a refresh token that cannot be revoked: exit 1, nothing cleared', async (t) => {
  const { config, dsn } = await loggedIn(t, async () => [
    `RevokeURI=${await revocationEndpoint(t, {
      refresh_token: { status: 503, body: { error: 'temporarily_unavailable' } },
    })}`,
  ]);
  const store = openTokenStore(dsn, config);
  const held = await store.load('crm');

  const io = captureIo();
  t.equal(await runLogout(['crm', '--config', config], io), 1);
  t.match(
    io.err(),
    /tokenshim logout: DSN "crm": RevokeURI \(POST http:\/\/127\.0\.0\.1:\d+\/revoke\) did not revoke the refresh token: it answered 503 temporarily_unavailable\. The provider reports a problem on its side: run tokenshim logout again later\./,
  );
  t.same(await store.load('crm'), held, 'the tokens are still there, to be revoked later');
  t.notMatch(io.err(), held!.refreshToken!);
});

t.test('a provider that does not revoke access tokens: logged out, with a note', async (t) => {
  const { config } = await loggedIn(t, async () => [
    `RevokeURI=${await revocationEndpoint(t, {
      access_token: { status: 400, body: { error: 'unsupported_token_type' } },
    })}`,
  ]);
  const io = captureIo();
  t.equal(await runLogout(['crm', '--config', config], io), 0, io.err());
  t.match(io.out(), /Revoked the refresh token at POST/);
  t.match(
    io.err(),
    /does not revoke access tokens \(unsupported_token_type\): the last one stays valid until it expires/,
  );
});

t.test(
  'Redis store: the shared entry is replaced, for every instance',
  { skip: redisSkipReason() },
  async (t) => {
    const redis = await startRedisServer(t);
    const { server, config, dsn } = await loggedIn(t, (oauth) => [
      `RevokeURI=${oauth.revocationEndpoint}`,
      `TokenStore=${redis.url}`,
      'TokenStoreKey=crm-shared',
    ]);

    const io = captureIo();
    t.equal(await runLogout(['crm', '--config', config], io), 0, io.err());
    // opened after: in one process, stores of one Redis URL share the connection logout closed
    const store = openTokenStore(dsn, config);
    t.teardown(() => store.close());
    t.match(io.out(), /cleared from redis:\/\/127\.0\.0\.1:\d+/);
    const entry = await store.load('crm-shared');
    t.match(entry, { loggedOutAt: Number });
    t.equal(entry?.refreshToken, undefined);
    t.equal(server.revocationRequests, 2);
  },
);

t.test('logout is for DSNs that live on a refresh token', async (t) => {
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    '[cc]\nAuthenticationMethod=53\nClientID=c\nClientSecret=s\nTokenURI=POST https://login.example.com/token\nHostName=https://api.example.com\n',
  );
  const io = captureIo();
  t.equal(await runLogout(['cc', '--config', config], io), 2);
  t.match(
    io.err(),
    /tokenshim logout is for DSNs that live on a refresh token .* this one uses 53/,
  );
});
