/**
 * ClientKey: a DSN that has one forwards only requests presenting it (HTTP Basic password, any
 * user name, as Qlik's "Basic" authentication sends it; X-Tokenshim-Key; or Proxy-Authorization
 * for the forward proxy), compared in constant time, wrong attempts throttled per address and
 * counted; the inbound key never reaches the upstream.
 */
import t, { type Test } from 'tap';
import { request } from 'undici';
import { FakeClock } from '../../../lib/clock.js';
import { ProxyMetrics } from '../../../lib/metrics/proxy-metrics.js';
import { presentedClientKey } from '../../../lib/proxy/access/client-key.js';
import { sameKey, type KeyRefusedEvent } from '../../../lib/proxy/access/key-gate.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { startUpstream } from '../../fixtures/upstream.js';
import { curl } from '../client-requests.js';
import { startProxy } from '../proxy-harness.js';

const KEY = 'client-key-0123456789-abcdef';
const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function scene(t: Test) {
  const up = await startUpstream(t);
  const refused: KeyRefusedEvent[] = [];
  const metrics = new ProxyMetrics({ processMetrics: false });
  const clock = new FakeClock();
  const proxy = await startProxy(
    t,
    [
      makeDsn({ name: 'crm', method: 54, upstream: new URL(up.origin), clientKey: KEY }),
      makeDsn({ name: 'open', method: 15, upstream: new URL(up.origin), clientKey: KEY }),
      makeDsn({ name: 'nokey', method: 54, upstream: new URL(up.origin) }),
    ],
    {
      clock,
      accessObserver: {
        keyRefused(e) {
          refused.push(e);
          metrics.keyRefused(e);
        },
      },
      stubOptions: {
        open: { stripsClientAuthorization: false, staticHeader: ['X-Api-Key', 'static'] },
      },
    },
  );
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${proxy.server.url}${path}`, { headers });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  };
  return { up, proxy, refused, metrics, clock, get };
}

t.test('without the key: 401 with a Basic challenge, nothing forwarded', async (t) => {
  const s = await scene(t);
  const none = await s.get('/crm/x');
  t.equal(none.status, 401);
  t.match(none.headers['www-authenticate'], /^Basic realm="tokenshim crm"/);
  t.match(JSON.parse(none.body), {
    code: 'TOKENSHIM_CLIENT_KEY',
    dsn: 'crm',
    detail:
      'DSN "crm" answers only clients that present its ClientKey: send it as the password of HTTP Basic authentication (any user name) or in the X-Tokenshim-Key header.',
  });
  const wrong = await s.get('/crm/x', { authorization: basic('qlik', `${KEY}x`) });
  t.equal(wrong.status, 401);
  t.match(JSON.parse(wrong.body).detail, /^The key sent for DSN "crm" is not its ClientKey/);
  t.notOk(wrong.body.includes(KEY), 'the key is not echoed');
  const bearer = await s.get('/crm/x', { authorization: `Bearer ${KEY}` });
  t.equal(bearer.status, 401, 'only Basic carries the key in Authorization');
  t.equal(s.up.requests.length, 0);
  t.same(
    s.refused.map((e) => `${e.kind} ${e.dsn} ${e.outcome}`),
    ['client_key crm missing', 'client_key crm wrong', 'client_key crm missing'],
  );
  const nokey = await s.get('/nokey/x');
  t.equal(nokey.status, 200, 'a DSN without ClientKey is not affected');
});

t.test(
  "as Qlik's Basic sends it, any user name: forwarded with the DSN's credential, the key removed",
  async (t) => {
    const s = await scene(t);
    const res = await s.get('/crm/x', { authorization: basic('any-user', KEY) });
    t.equal(res.status, 200);
    const sent = s.up.requests[0]!;
    t.equal(sent.headers.authorization, `Bearer ${s.proxy.stub('crm').currentToken}`);
    t.notOk(
      JSON.stringify(sent.rawHeaders).includes(Buffer.from(`any-user:${KEY}`).toString('base64')),
    );
  },
);

t.test('in X-Tokenshim-Key: forwarded, the header removed', async (t) => {
  const s = await scene(t);
  t.equal((await s.get('/crm/x', { 'x-tokenshim-key': KEY })).status, 200);
  t.notOk(JSON.stringify(s.up.requests[0]!.rawHeaders).includes(KEY));
});

t.test(
  "a DSN that passes the client's Authorization on: passed only when it did not carry the key",
  async (t) => {
    const s = await scene(t);
    t.equal((await s.get('/open/a', { authorization: basic('u', KEY) })).status, 200);
    t.equal(s.up.requests[0]!.headers.authorization, undefined, 'the Basic that carried the key');
    const own = await s.get('/open/b', { 'x-tokenshim-key': KEY, authorization: 'Bearer own' });
    t.equal(own.status, 200);
    t.equal(s.up.requests[1]!.headers.authorization, 'Bearer own', "the client's own, kept");
  },
);

t.test('curl -u and a proxy URL with the key (Proxy-Authorization) both work', async (t) => {
  const s = await scene(t);
  const u = await curl([
    '-s',
    '-o',
    '/dev/null',
    '-u',
    `whoever:${KEY}`,
    `${s.proxy.server.url}/crm/x`,
  ]);
  t.equal(u.status, 200);
  const viaProxy = await curl([
    '-s',
    '-o',
    '/dev/null',
    '-x',
    `http://qlik:${KEY}@127.0.0.1:${s.proxy.server.port}`,
    `${s.up.origin}/x`,
  ]);
  t.equal(viaProxy.status, 200, 'forward proxy: the key in the proxy credentials');
  t.equal(s.up.requests.length, 2);
  t.notOk(JSON.stringify(s.up.requests.map((r) => r.rawHeaders)).includes('Basic'));
});

t.test(
  'wrong keys are throttled per address: 10 failures lock it out for 60 s, counted in metrics',
  async (t) => {
    const s = await scene(t);
    for (let i = 0; i < 10; i++) {
      t.equal((await s.get('/crm/x', { 'x-tokenshim-key': `guess-${i}` })).status, 401);
    }
    const locked = await s.get('/crm/x', { 'x-tokenshim-key': KEY });
    t.equal(locked.status, 429, 'even the right key: a guess must not be told right');
    t.equal(locked.headers['retry-after'], '60');
    t.match(JSON.parse(locked.body), { code: 'TOKENSHIM_TOO_MANY_ATTEMPTS', retry_after: 60 });
    t.equal(s.up.requests.length, 0);
    s.clock.advance(59_000);
    t.equal((await s.get('/open/x', { 'x-tokenshim-key': KEY })).status, 429, 'every DSN');
    s.clock.advance(1_000);
    t.equal((await s.get('/crm/x', { 'x-tokenshim-key': KEY })).status, 200, 'after the lockout');
    const { body } = await s.metrics.render();
    t.match(body, /tokenshim_key_refusals_total\{kind="client_key",dsn="crm",outcome="wrong"\} 10/);
    t.match(
      body,
      /tokenshim_key_refusals_total\{kind="client_key",dsn="crm",outcome="throttled"\} 1/,
    );
    t.match(
      body,
      /tokenshim_key_refusals_total\{kind="client_key",dsn="open",outcome="throttled"\} 1/,
    );
  },
);

t.test('a right key ends the count: failures spread over time never lock out', async (t) => {
  const s = await scene(t);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 9; i++) await s.get('/crm/x', { 'x-tokenshim-key': 'typo' });
    t.equal((await s.get('/crm/x', { 'x-tokenshim-key': KEY })).status, 200);
  }
});

t.test("one DSN's right key does not end the count of guesses at another DSN's", async (t) => {
  const s = await scene(t);
  for (let round = 0; round < 3; round++) {
    t.equal((await s.get('/crm/x', { 'x-tokenshim-key': `guess-${round}` })).status, 401);
    t.equal((await s.get('/open/x', { 'x-tokenshim-key': KEY })).status, 200);
  }
  for (let i = 3; i < 10; i++) await s.get('/crm/x', { 'x-tokenshim-key': `guess-${i}` });
  t.equal((await s.get('/crm/x', { 'x-tokenshim-key': KEY })).status, 429);
});

t.test('presentedClientKey and sameKey', async (t) => {
  t.same(presentedClientKey({ authorization: basic('u', 'p:with:colons') }), {
    key: 'p:with:colons',
    inAuthorization: true,
  });
  t.same(presentedClientKey({ authorization: 'basic   ' + Buffer.from(':k').toString('base64') }), {
    key: 'k',
    inAuthorization: true,
  });
  t.same(presentedClientKey({ authorization: basic('nocolon', '').slice(0, -4) }), {
    key: undefined,
    inAuthorization: false,
  });
  t.same(presentedClientKey({ 'x-tokenshim-key': 'h', authorization: basic('u', 'p') }), {
    key: 'h',
    inAuthorization: false,
  });
  t.same(presentedClientKey({ 'proxy-authorization': basic('u', 'pk') }), {
    key: 'pk',
    inAuthorization: false,
  });
  t.equal(sameKey('abc', 'abc'), true);
  t.equal(sameKey('abc', 'abcd'), false, 'different lengths compare without throwing');
  t.equal(sameKey('', 'x'), false);
});
