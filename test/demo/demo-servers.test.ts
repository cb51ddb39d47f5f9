import t from 'tap';
import { request } from 'undici';
import { FakeClock } from '../../lib/clock.js';
import { startDemoServers } from '../../lib/demo/demo-servers.js';
import { DemoTokenLedger } from '../../lib/demo/demo-token-ledger.js';

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

t.test('ledger: access tokens live 30 s by default; each refresh token works once', async (t) => {
  const clock = new FakeClock();
  const ledger = new DemoTokenLedger({ clock });
  const first = ledger.refresh(ledger.initialRefreshToken)!;
  t.equal(first.expiresInSeconds, 30);
  t.equal(first.number, 1);
  t.same(ledger.live(first.accessToken), { number: 1, expiresInSeconds: 30 });
  clock.advance(29_000);
  t.same(ledger.live(first.accessToken), { number: 1, expiresInSeconds: 1 });
  clock.advance(1_000);
  t.equal(ledger.live(first.accessToken), undefined, 'expired at 30 s');
  t.equal(
    ledger.refresh(ledger.initialRefreshToken),
    undefined,
    'the spent refresh token is refused',
  );
  const second = ledger.refresh(first.refreshToken)!;
  t.equal(second.number, 2);
  t.not(second.refreshToken, first.refreshToken, 'rotated');
  t.equal(ledger.live('made-up'), undefined);
  t.equal(ledger.live(undefined), undefined);
});

t.test('the token endpoint and the API over HTTP', async (t) => {
  const clock = new FakeClock();
  const demo = await startDemoServers({
    clock,
    tokenSeconds: 30,
    gatewayUrl: () => 'http://127.0.0.1:8790/demo',
  });
  t.teardown(() => demo.close());
  t.match(demo.tokenUrl, /^http:\/\/127\.0\.0\.1:\d+\/oauth2\/token$/);
  t.match(demo.apiUrl, /^http:\/\/127\.0\.0\.1:\d+\/api$/);
  const token = (auth: string, refresh: string) =>
    request(demo.tokenUrl, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh }).toString(),
    });

  const wrongSecret = await token(
    basic(demo.ledger.clientId, 'nope'),
    demo.ledger.initialRefreshToken,
  );
  t.equal(wrongSecret.statusCode, 401);
  t.match(await wrongSecret.body.json(), { error: 'invalid_client' });

  const ok = await token(
    basic(demo.ledger.clientId, demo.ledger.clientSecret),
    demo.ledger.initialRefreshToken,
  );
  t.equal(ok.statusCode, 200);
  t.equal(ok.headers['cache-control'], 'no-store');
  const issued = (await ok.body.json()) as {
    access_token: string;
    refresh_token: string;
    expires_in: number;
    token_type: string;
  };
  t.equal(issued.expires_in, 30);
  t.equal(issued.token_type, 'Bearer');

  const reused = await token(
    basic(demo.ledger.clientId, demo.ledger.clientSecret),
    demo.ledger.initialRefreshToken,
  );
  t.equal(reused.statusCode, 400);
  t.match(await reused.body.json(), {
    error: 'invalid_grant',
    error_description: /they rotate: each one works once/,
  });

  const call = (auth?: string) =>
    request(`${demo.apiUrl}/orders`, auth ? { headers: { authorization: auth } } : {});
  const anonymous = await call();
  t.equal(anonymous.statusCode, 401);
  t.equal(anonymous.headers['www-authenticate'], 'Bearer realm="tokenshim demo"');
  t.match(await anonymous.body.json(), { hint: /http:\/\/127\.0\.0\.1:8790\/demo\/orders/ });

  const live = await call(`Bearer ${issued.access_token}`);
  t.equal(live.statusCode, 200);
  const body = await live.body.text();
  t.match(JSON.parse(body), {
    token: { number: 1, expiresInSeconds: 30 },
    orders: [{ id: 1001 }, {}, {}],
  });
  t.notMatch(body, issued.access_token, 'the token is never echoed');

  clock.advance(30_000);
  const expired = await call(`Bearer ${issued.access_token}`);
  t.equal(expired.statusCode, 401);
  t.equal(
    expired.headers['www-authenticate'],
    'Bearer realm="tokenshim demo", error="invalid_token"',
  );
  await expired.body.dump();

  const section = demo.dsnSection('demo');
  t.match(section, `TokenURI=POST ${demo.tokenUrl}\n`);
  t.match(section, `HostName=${demo.apiUrl}\n`);
});
