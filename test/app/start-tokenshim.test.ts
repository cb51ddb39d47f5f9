import t from 'tap';
import { request } from 'undici';
import { startOperationsScenario } from '../proxy/admin/operations-scenario.js';

interface LogLine {
  level: number;
  component?: string;
  msg: string;
  [field: string]: unknown;
}

function lines(text: string): LogLine[] {
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LogLine);
}

t.test(
  'one access line per request: DSN, method, path without query values, status, duration, refresh',
  async (t) => {
    const s = await startOperationsScenario(t);
    const call = async (path: string): Promise<void> => {
      const res = await request(`${s.proxy.url}${path}`);
      await res.body.dump();
    };
    await call('/crm/accounts?email=a%40b.example&page=2');
    await call('/crm/accounts');
    const token = String(s.upstream.requests.at(-1)?.headers.authorization).slice(7);
    s.revoke(token);
    await call('/crm/accounts');
    await call('/erp/orders');

    const access = lines(s.logs()).filter((l) => l.component === 'access');
    t.equal(access.length, 4, 'one line per request');
    const [first, second, replayed, failed] = access;
    t.match(first, {
      level: 30,
      msg: 'request',
      dsn: 'crm',
      method: 'GET',
      path: '/crm/accounts?email&page',
      status: 200,
      refreshed: true,
    });
    t.type(first?.['durationMs'], 'number');
    t.type(first?.['upstreamMs'], 'number');
    t.match(
      second,
      { path: '/crm/accounts', status: 200, refreshed: false },
      'the cached token served it',
    );
    t.match(replayed, { status: 200, refreshed: true, replayed: true });
    t.match(
      failed,
      { dsn: 'erp', status: 502, refreshed: false },
      'a failed token fetch is not a refresh',
    );
    t.notOk('upstreamMs' in (failed ?? {}), 'erp never reached the upstream');
    t.notMatch(s.logs(), 'a%40b.example', 'query values stay out of the log');
  },
);

t.test('one line per token event, with the trigger and the failure reason', async (t) => {
  const s = await startOperationsScenario(t);
  for (const path of ['/crm/a', '/erp/b']) {
    const res = await request(`${s.proxy.url}${path}`);
    await res.body.dump();
  }
  const token = lines(s.logs()).filter((l) => l.component === 'token');
  t.equal(token.length, 4, 'each token event is logged once, by the token log');
  t.match(
    token.map((l) => [l['event'], l['dsn'], l['trigger']]),
    [
      ['token_requested', 'crm', 'on_demand'],
      ['token_fetched', 'crm', 'on_demand'],
      ['token_requested', 'erp', 'on_demand'],
      ['token_fetch_failed', 'erp', 'on_demand'],
    ],
  );
  t.match(token[1], {
    level: 30,
    grantType: 'refresh_token',
    lifetimeSeconds: Number,
    refreshTokenRotated: true,
  });
  t.match(token[3], { level: 40, reason: 'oauth_error', httpStatus: 400, terminal: true });
  t.match(token[3]?.msg, 'needs a new login');
  t.match(token[3]?.['error'], /^DSN "erp" needs a new login/, 'the line says why');
  const tokenEvents = new Set(['token_requested', 'token_fetched', 'token_fetch_failed']);
  t.same(
    lines(s.logs())
      .filter((l) => tokenEvents.has(String(l['event'])) && l.level >= 30)
      .map((l) => l.component),
    ['token', 'token', 'token', 'token'],
    'each token event is logged once, by the token log',
  );
});
