import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../lib/auth/stores/memory-store.js';
import { FakeClock } from '../../lib/clock.js';
import { lookupAuthMethod } from '../../lib/config/auth-methods.js';
import type { DsnConfig } from '../../lib/config/dsn.js';
import { ConfigError } from '../../lib/errors.js';
import { makeDsn } from '../fixtures/make-dsn.js';

type DsnOverrides = Parameters<typeof makeDsn>[0];

async function staticCred(o: DsnOverrides) {
  const p = createCredentialProvider(makeDsn(o));
  const cred = await p.credential();
  return { p, cred };
}

t.test('static methods', async (t) => {
  t.test('15 None: nothing, or the AuthHeader/SecurityToken static header', async (t) => {
    const { p, cred } = await staticCred({ method: 15 });
    t.same([cred.headers, cred.query, cred.accessToken], [[], [], undefined]);
    t.equal(p.stripsClientAuthorization, false);
    t.same(p.status(), { state: 'none', tokenRequests: 0 });
    const withHeader = await staticCred({
      method: 15,
      authHeader: 'X-Tenant',
      securityToken: 'acme',
    });
    t.same(withHeader.cred.headers, [['X-Tenant', 'acme']]);
  });

  t.test('0 Basic: User/Password (RFC 7617), in AuthHeader if set', async (t) => {
    const { cred, p } = await staticCred({ method: 0, user: 'ana', password: 'pä:ss' });
    t.same(cred.headers, [
      ['Authorization', `Basic ${Buffer.from('ana:pä:ss').toString('base64')}`],
    ]);
    t.equal(p.invalidate(cred), false, 'no refresh can fix a static credential');
    t.same(p.status(), { state: 'static', tokenRequests: 0 });
    const custom = await staticCred({
      method: 0,
      user: 'ana',
      password: 'x',
      authHeader: 'X-Auth',
    });
    t.equal(custom.cred.headers[0]?.[0], 'X-Auth');
  });

  t.test('34 BearerToken, 25 HttpHeader, 14 UrlParameter, 50 AccessToken', async (t) => {
    t.same((await staticCred({ method: 34, securityToken: 'st' })).cred.headers, [
      ['Authorization', 'Bearer st'],
    ]);
    t.same((await staticCred({ method: 25, securityToken: 'st' })).cred.headers, [
      ['Authorization', 'st'],
    ]);
    t.same(
      (await staticCred({ method: 25, securityToken: 'st', authHeader: 'X-API-Key' })).cred.headers,
      [['X-API-Key', 'st']],
    );
    const url = (await staticCred({ method: 14, securityToken: 'st', authParam: 'api_key' })).cred;
    t.same([url.headers, url.query], [[], [['api_key', 'st']]]);
    t.same((await staticCred({ method: 50, accessToken: 'at' })).cred.headers, [
      ['Authorization', 'Bearer at'],
    ]);
    t.same(
      (
        await staticCred({
          method: 50,
          accessToken: 'at',
          tokenPlacement: { kind: 'query', name: 'access_token' },
        })
      ).cred.query,
      [['access_token', 'at']],
    );
  });

  t.test('24 OAuth2 legacy with only an AccessToken is static', async (t) => {
    const { cred, p } = await staticCred({ method: 24, accessToken: 'legacy-at' });
    t.equal(p.dsn.effectiveMethod.code, 50, 'config resolves it to OAuth2-AccessToken');
    t.same(cred.headers, [['Authorization', 'Bearer legacy-at']]);
    t.equal(p.status().state, 'static');
  });

  // lib/config refuses each of these DSNs (requiredBy, unsupported methods); the provider guards
  // against a DsnConfig built without it, so these are made by removing a field after resolving.
  t.test('missing options: config errors naming the DSN, the method and the option', async (t) => {
    const digest = lookupAuthMethod('30')!;
    const cases: [DsnConfig, RegExp][] = [
      [
        { ...makeDsn({ method: 34 }), securityToken: undefined },
        /DSN "test": AuthenticationMethod=34 \(BearerToken\) needs SecurityToken; add SecurityToken=/,
      ],
      [{ ...makeDsn({ method: 14, securityToken: 'x' }), authParam: undefined }, /needs AuthParam/],
      [{ ...makeDsn({ method: 0 }), user: undefined }, /needs User/],
      [{ ...makeDsn({ method: 50 }), accessToken: undefined }, /needs AccessToken/],
      [
        { ...makeDsn({}), method: digest, effectiveMethod: digest },
        /AuthenticationMethod=30 \(Digest\) is not supported/,
      ],
      [
        { ...makeDsn({ method: 53, clientId: 'c', clientSecret: 's' }), tokenEndpoint: undefined },
        /needs TokenURI/,
      ],
    ];
    for (const [dsn, message] of cases)
      t.throws(() => createCredentialProvider(dsn), { constructor: ConfigError, message });
  });
});

async function tokenServer(t: Test, body: Record<string, unknown>) {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/token`),
    get requests() {
      return requests;
    },
  };
}

function oauth(t: Test, url: URL, o: Partial<Omit<DsnConfig, 'method'>> = {}) {
  const p = createCredentialProvider(
    makeDsn({
      method: 53,
      clientId: 'c',
      clientSecret: 's',
      tokenEndpoint: { method: 'POST', url },
      ...o,
    }),
    { store: new MemoryTokenStore(), clock: new FakeClock() },
  );
  t.teardown(() => p.close());
  return p;
}

t.test('OAuth methods: TokenPlacement and the extra header', async (t) => {
  const server = await tokenServer(t, { access_token: 'tok', token_type: 'MAC', expires_in: 3600 });

  t.test('default: Authorization with the token_type as scheme', async (t) => {
    const p = oauth(t, server.url);
    const cred = await p.credential();
    t.same(cred.headers, [['Authorization', 'MAC tok']]);
    t.equal(cred.accessToken, 'tok');
    t.equal(p.stripsClientAuthorization, true);
    t.equal(p.perUser, false);
  });

  t.test('header:NAME puts the bare token in that header', async (t) => {
    const p = oauth(t, server.url, {
      tokenPlacement: { kind: 'header', name: 'X-Access-Token', scheme: false },
    });
    t.same((await p.credential()).headers, [['X-Access-Token', 'tok']]);
  });

  t.test('query:NAME puts it in the URL', async (t) => {
    const p = oauth(t, server.url, { tokenPlacement: { kind: 'query', name: 'access_token' } });
    const cred = await p.credential();
    t.same([cred.headers, cred.query], [[], [['access_token', 'tok']]]);
  });

  t.test('AuthHeader + SecurityToken add one static header beside the token', async (t) => {
    const p = oauth(t, server.url, { authHeader: 'X-Tenant-Id', securityToken: 'tenant-42' });
    t.same((await p.credential()).headers, [
      ['Authorization', 'MAC tok'],
      ['X-Tenant-Id', 'tenant-42'],
    ]);
  });

  t.test('invalidate: true for the current token (one refresh), false for static', async (t) => {
    const p = oauth(t, server.url);
    const cred = await p.credential();
    const before = server.requests;
    t.equal(p.invalidate(cred), true);
    t.equal(p.invalidate(cred), true);
    await Promise.all([p.credential(), p.credential()]);
    t.equal(server.requests - before, 1);
    t.equal(p.invalidate({ headers: [], query: [] }), false, 'a credential without a token');
  });
});

t.test(
  'OAuth2 legacy (24) with client credentials runs the client_credentials grant',
  async (t) => {
    const server = await tokenServer(t, { access_token: 'legacy', expires_in: 60 });
    const p = createCredentialProvider(
      makeDsn({
        method: 24,
        clientId: 'c',
        clientSecret: 's',
        tokenEndpoint: { method: 'POST', url: server.url },
      }),
      { store: new MemoryTokenStore(), clock: new FakeClock() },
    );
    t.teardown(() => p.close());
    t.equal((await p.credential()).accessToken, 'legacy');
    t.equal(p.stripsClientAuthorization, true);
  },
);

t.test('credential({ signal }): an aborted request stops waiting for the token', async (t) => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const server = createServer((_req, res) => {
    void held.then(() =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"access_token":"late","expires_in":60}'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const p = oauth(t, new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/token`));
  const controller = new AbortController();
  const pending = p.credential({ signal: controller.signal });
  controller.abort(new Error('client disconnected'));
  await t.rejects(pending, { message: 'client disconnected' });
  release();
  t.equal((await p.credential()).accessToken, 'late');
});

t.test(
  'per-user tokens: at most MaxUserTokens managers, least recently used evicted',
  async (t) => {
    const server = await tokenServer(t, { access_token: 'per-user', expires_in: 3600 });
    const p = oauth(t, server.url, {
      maxUserTokens: 2,
      tokenParams: { kind: 'form', pairs: [['subject', '{user}']] },
    });
    t.equal(p.perUser, true);
    await p.credential({ user: 'a' });
    await p.credential({ user: 'b' });
    await p.credential({ user: 'a' });
    t.equal(server.requests, 2, 'a and b each fetched once');
    await p.credential({ user: 'c' }); // evicts b, the least recently used
    await p.credential({ user: 'a' });
    t.equal(server.requests, 3, 'a is still cached');
    await p.credential({ user: 'b' });
    t.equal(server.requests, 4, 'b was evicted and fetches again');
  },
);

t.test('forceRefresh, prefetch and retire', async (t) => {
  t.test('static credentials: nothing to refresh, a clear 409', async (t) => {
    const p = createCredentialProvider(makeDsn({ name: 'legacy', method: 34, securityToken: 'x' }));
    await t.rejects(p.forceRefresh(), {
      code: 'TOKENSHIM_NOTHING_TO_REFRESH',
      status: 409,
      message:
        /DSN "legacy" uses a static credential \(AuthenticationMethod=34\): there is no token to refresh/,
    });
    p.prefetch();
    p.retire();
    t.equal((await p.credential()).headers.length, 1, 'a static credential is unaffected');
  });

  t.test('OAuth: forceRefresh makes a token request although the token is valid', async (t) => {
    const server = await tokenServer(t, { access_token: 'tok', expires_in: 3600 });
    const p = oauth(t, server.url);
    await p.credential();
    const forced = await p.forceRefresh();
    t.equal(server.requests, 2);
    t.equal(forced.accessToken, 'tok');
  });

  t.test('OAuth: prefetch gets a token with no request asking', async (t) => {
    const server = await tokenServer(t, { access_token: 'early', expires_in: 3600 });
    const p = oauth(t, server.url);
    p.prefetch();
    for (let i = 0; i < 1000 && p.status().state !== 'valid'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    t.equal(p.status().state, 'valid');
    t.equal(server.requests, 1);
  });

  t.test('per-user: a manager made after retire() is retired too', async (t) => {
    const server = await tokenServer(t, { access_token: 'u', expires_in: 3600 });
    const p = oauth(t, server.url, { tokenParams: { kind: 'form', pairs: [['sub', '{user}']] } });
    await p.credential({ user: 'a' });
    p.retire();
    t.equal((await p.credential({ user: 'a' })).accessToken, 'u', 'a held token still serves');
    await t.rejects(p.credential({ user: 'b' }), { code: 'TOKENSHIM_DSN_RELOADED' });
    t.equal(server.requests, 1, 'no token request after retire');
  });
});
