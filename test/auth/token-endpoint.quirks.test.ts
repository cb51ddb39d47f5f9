/**
 * Token-endpoint shapes no real server here has: Marketo's GET with URL credentials, Qlik Cloud's
 * JSON body and expires_at, string or missing expires_in, HTML error pages, 5xx and 429 with
 * Retry-After, a closed port. A small node:http server answers as each does.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../lib/auth/stores/memory-store.js';
import type { TokenEvent } from '../../lib/auth/token-events.js';
import { FakeClock } from '../../lib/clock.js';
import type { DsnConfig } from '../../lib/config/dsn.js';
import { TokenUnavailableError, UserRequiredError, type TokenshimError } from '../../lib/errors.js';
import { makeDsn } from '../fixtures/make-dsn.js';

interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}
type Reply = { status?: number; headers?: Record<string, string>; body: unknown };

async function quirkServer(t: Test, reply: (seen: Seen) => Reply) {
  const seen: Seen[] = [];
  const state = { reply };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const s = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://x'),
        headers: req.headers,
        body,
      };
      seen.push(s);
      const r = state.reply(s);
      const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      res
        .writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers })
        .end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/token`;
  return { seen, url, state };
}

function provider(t: Test, dsn: DsnConfig, clock: FakeClock, events: TokenEvent[] = []) {
  const p = createCredentialProvider(dsn, {
    store: new MemoryTokenStore(),
    clock,
    random: () => 0,
    onEvent: (e) => events.push(e),
  });
  t.teardown(() => p.close());
  return p;
}

async function settled(events: TokenEvent[], count: number): Promise<void> {
  const done = () => events.filter((e) => e.type !== 'token_requested').length >= count;
  while (!done()) await new Promise((r) => setImmediate(r));
}

t.test('Marketo: GET token endpoint, credentials in the URL, expires_in as a string', async (t) => {
  const q = await quirkServer(t, () => ({
    body: { access_token: 'mkto-at', token_type: 'bearer', expires_in: '3599', scope: 'x@y.com' },
  }));
  const clock = new FakeClock();
  const p = provider(
    t,
    makeDsn({
      name: 'marketo',
      method: 53,
      clientId: 'mk-id',
      clientSecret: 'mk-secret',
      clientCredentialsMode: 2,
      tokenEndpoint: { method: 'GET', url: new URL(q.url) },
    }),
    clock,
  );
  const cred = await p.credential();
  t.same(cred.headers, [['Authorization', 'Bearer mkto-at']], 'bearer becomes Bearer');
  const req = q.seen[0]!;
  t.equal(req.method, 'GET');
  t.equal(req.body, '');
  t.same(Object.fromEntries(req.url.searchParams), {
    client_id: 'mk-id',
    client_secret: 'mk-secret',
    grant_type: 'client_credentials',
  });
  t.equal(req.headers.authorization, undefined);
  // "3599" read as 3599 s, not the 3600 s default
  t.equal(p.status().expiresAt, clock.now() + 3599_000, 'string expires_in was understood');
});

t.test(
  'Qlik Cloud: JSON body, GrantType impersonation, user_lookup with {user}, expires_at',
  async (t) => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const q = await quirkServer(t, (s) => {
      const body = JSON.parse(s.body) as { user_lookup: { value: string } };
      return {
        body: {
          access_token: `qlik-${body.user_lookup.value}`,
          token_type: 'Bearer',
          expires_at: new Date(clock.now() + 6 * 3600_000).toISOString(),
        },
      };
    });
    const p = provider(
      t,
      makeDsn({
        name: 'qlik',
        method: 53,
        grantType: 'urn:qlik:oauth:user-impersonation',
        clientId: 'q-id',
        clientSecret: 'q-secret',
        clientCredentialsMode: 3,
        scope: 'user_default',
        tokenRequestFormat: 'json',
        tokenParams: {
          kind: 'json',
          object: { user_lookup: { field: 'subject', value: '{user}' } },
        },
        tokenEndpoint: { method: 'POST', url: new URL(q.url) },
      }),
      clock,
    );
    t.equal(p.perUser, true);
    const err = await p.credential().catch((e: unknown) => e);
    t.type(err, UserRequiredError);
    t.equal(q.seen.length, 0);

    const [alice, bob, alice2] = await Promise.all([
      p.credential({ user: 'alice' }),
      p.credential({ user: 'bob' }),
      p.credential({ user: 'alice' }),
    ]);
    t.equal(alice.accessToken, 'qlik-alice');
    t.equal(alice.user, 'alice');
    t.equal(bob.accessToken, 'qlik-bob');
    t.equal(alice2.accessToken, 'qlik-alice');
    t.equal(q.seen.length, 2, 'one request per user');
    t.equal(q.seen[0]!.headers['content-type'], 'application/json');
    t.same(JSON.parse(q.seen[0]!.body), {
      grant_type: 'urn:qlik:oauth:user-impersonation',
      scope: 'user_default',
      user_lookup: { field: 'subject', value: 'alice' },
      client_id: 'q-id',
      client_secret: 'q-secret',
    });
    clock.advance(6 * 3600_000 - 300_000 - 1);
    await p.credential({ user: 'alice' });
    t.equal(q.seen.length, 2, 'expires_at was understood: still valid');
    t.equal(p.invalidate(alice), true, 'rejected per user');
    t.equal((await p.credential({ user: 'alice' })).accessToken, 'qlik-alice');
    t.equal(q.seen.length, 3);
  },
);

t.test('missing expires_in: DefaultTokenLifetime decides when to refresh', async (t) => {
  let n = 0;
  const q = await quirkServer(t, () => ({ body: { access_token: `opaque-${++n}` } }));
  const clock = new FakeClock();
  const events: TokenEvent[] = [];
  const p = provider(
    t,
    makeDsn({
      method: 53,
      clientId: 'id',
      clientSecret: 'secret',
      defaultTokenLifetimeSeconds: 120,
      refreshMarginSeconds: 300,
      tokenEndpoint: { method: 'POST', url: new URL(q.url) },
    }),
    clock,
    events,
  );
  t.equal((await p.credential()).accessToken, 'opaque-1');
  clock.advance(107_000);
  t.equal(q.seen.length, 1);
  clock.advance(1_000); // a tenth of 120 s left: refresh ahead
  await settled(events, 2);
  t.equal((await p.credential()).accessToken, 'opaque-2');
});

t.test('an HTML error page: a clear error quoting its first line', async (t) => {
  const q = await quirkServer(t, () => ({
    status: 404,
    headers: { 'content-type': 'text/html' },
    body: '<!DOCTYPE html>\n<title>Not Found</title>',
  }));
  const p = provider(
    t,
    makeDsn({
      name: 'html',
      method: 53,
      clientId: 'id',
      clientSecret: 'html-secret',
      tokenEndpoint: { method: 'POST', url: new URL(q.url) },
    }),
    new FakeClock(),
  );
  const err = (await p.credential().catch((e: unknown) => e)) as TokenshimError;
  t.type(err, TokenUnavailableError);
  t.match(err.message, /DSN "html"/);
  t.match(err.message, /answered 404 with text\/html, not a token: "<!DOCTYPE html>"/);
  t.notMatch(err.message, 'html-secret');
  t.equal(err.toProblem().code, 'TOKENSHIM_TOKEN_UNAVAILABLE');
});

t.test('503 with Retry-After: no request before it has passed', async (t) => {
  const q = await quirkServer(t, () => ({
    status: 503,
    headers: { 'retry-after': '120' },
    body: 'busy',
  }));
  const clock = new FakeClock();
  const events: TokenEvent[] = [];
  const p = provider(
    t,
    makeDsn({
      method: 53,
      clientId: 'id',
      clientSecret: 's',
      tokenEndpoint: { method: 'POST', url: new URL(q.url) },
    }),
    clock,
    events,
  );
  const err = await p.credential().catch((e: unknown) => e);
  t.type(err, TokenUnavailableError);
  t.match(events.at(-1), {
    type: 'token_fetch_failed',
    reason: 'status_5xx',
    httpStatus: 503,
    retryInMs: 120_000,
  });
  t.equal(p.status().state, 'failing');
  t.match(p.status().lastError, /HTTP 503/);
  clock.advance(119_000);
  t.type(await p.credential().catch((e: unknown) => e), TokenUnavailableError);
  t.equal(q.seen.length, 1, 'callers during the wait get the error without a request');

  q.state.reply = () => ({ body: { access_token: 'recovered', expires_in: 600 } });
  clock.advance(1_000);
  t.equal((await p.credential()).accessToken, 'recovered');
  t.equal(p.status().state, 'valid');
});

t.test(
  'endpoint failing while the token is valid: serve it, back off, fail only after expiry',
  async (t) => {
    const q = await quirkServer(t, () => ({ body: { access_token: 'first', expires_in: 600 } }));
    const clock = new FakeClock();
    const events: TokenEvent[] = [];
    const p = provider(
      t,
      makeDsn({
        name: 'flaky',
        method: 53,
        clientId: 'id',
        clientSecret: 's',
        refreshMarginSeconds: 120,
        tokenEndpoint: { method: 'POST', url: new URL(q.url) },
      }),
      clock,
      events,
    );
    await p.credential();
    q.state.reply = () => ({ status: 500, body: { error: 'server_error' } });
    // RefreshMargin=120 is capped at a tenth of the 600 s lifetime: refresh ahead starts with
    // 60 s left, and fails
    clock.advance(540_000);
    await settled(events, 2);
    t.match(events.at(-1), {
      type: 'token_fetch_failed',
      reason: 'status_5xx',
      trigger: 'ahead_of_expiry',
      retryInMs: 500,
    });
    t.equal((await p.credential()).accessToken, 'first', 'the valid token is still served');

    // retries back off: 0.5 s, 1 s, 2 s, 4 s (random() = 0: the fixed half of each ceiling)
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const last = events.at(-1) as { retryInMs: number };
      delays.push(last.retryInMs);
      clock.advance(last.retryInMs);
      await settled(events, 3 + i);
    }
    t.same(delays, [500, 1000, 2000, 4000]);
    t.equal((await p.credential()).accessToken, 'first');

    q.state.reply = () => ({ status: 429, body: '' });
    clock.advance(120_000); // past expiry (600 s)
    const err = (await p.credential().catch((e: unknown) => e)) as TokenshimError;
    t.type(err, TokenUnavailableError, 'an expired token is never handed out');
    t.match(err.message, /DSN "flaky" has no valid access token/);
    t.equal(p.status().state, 'failing');
  },
);

t.test('429 is reported as such', async (t) => {
  const q = await quirkServer(t, () => ({
    status: 429,
    headers: { 'retry-after': '3' },
    body: '',
  }));
  const events: TokenEvent[] = [];
  const p = provider(
    t,
    makeDsn({
      method: 53,
      clientId: 'id',
      clientSecret: 's',
      tokenEndpoint: { method: 'POST', url: new URL(q.url) },
    }),
    new FakeClock(),
    events,
  );
  await p.credential().catch(() => undefined);
  t.match(events.at(-1), { reason: 'status_429', httpStatus: 429, retryInMs: 3000 });
});

t.test('a closed port: a network failure, named as such', async (t) => {
  const q = await quirkServer(t, () => ({ body: {} }));
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  void q;
  const events: TokenEvent[] = [];
  const p = provider(
    t,
    makeDsn({
      name: 'down',
      method: 53,
      clientId: 'id',
      clientSecret: 's',
      tokenEndpoint: {
        method: 'POST',
        url: new URL(`http://127.0.0.1:${port}/token?client_secret=in-url`),
      },
    }),
    new FakeClock(),
    events,
  );
  const err = (await p.credential().catch((e: unknown) => e)) as TokenshimError;
  t.type(err, TokenUnavailableError);
  t.match(
    err.message,
    /cannot reach the token endpoint \(POST http:\/\/127\.0\.0\.1:\d+\/token\): ECONNREFUSED/,
  );
  t.notMatch(err.message, 'in-url', 'the query string (which may hold secrets) is not quoted');
  t.match(events.at(-1), { reason: 'network' });
});
