import t from 'tap';
import { request } from 'undici';
import { startOperationsScenario } from './operations-scenario.js';

interface ReadyBody {
  status: string;
  failing?: string[];
  dsns: { dsn: string; ready: boolean; state: string; reason?: string }[];
}

t.test('ready: 503 naming the DSNs that cannot get a token, and why', async (t) => {
  const s = await startOperationsScenario(t);
  const res = await request(`${s.proxy.url}/_tokenshim/ready`);
  t.equal(res.statusCode, 503);
  t.equal(res.headers['content-type'], 'application/json');
  const body = (await res.body.json()) as ReadyBody;
  t.equal(body.status, 'not ready');
  t.same(body.failing, ['erp', 'down']);
  const by = new Map(body.dsns.map((d) => [d.dsn, d]));
  t.match(by.get('crm'), { ready: true, state: 'valid' }, 'got its token on the spot');
  t.match(by.get('mkto'), { ready: true, state: 'valid' });
  t.match(by.get('static'), { ready: true, state: 'static' });
  t.match(by.get('erp'), { ready: false, state: 'needs-login' });
  t.match(by.get('erp')?.reason, /needs a new login.*invalid_grant.*tokenshim login erp/);
  t.match(by.get('down'), { ready: false });
  t.match(
    by.get('down')?.reason,
    /DSN "down".*(cannot reach the token endpoint|no valid access token)/,
  );
});

t.test(
  'ready: 200 once every DSN holds a valid token; HEAD works; no new token request while valid',
  async (t) => {
    const s = await startOperationsScenario(t);
    // only the healthy DSNs
    await s.proxy.reload(s.dsns.filter((d) => ['crm', 'mkto', 'static'].includes(d.name)));
    const first = await request(`${s.proxy.url}/_tokenshim/ready`);
    t.equal(first.statusCode, 200);
    t.same(((await first.body.json()) as ReadyBody).status, 'ready');
    const requests = s.oauth.tokenRequests;
    const again = await request(`${s.proxy.url}/_tokenshim/ready`, { method: 'HEAD' });
    t.equal(again.statusCode, 200);
    await again.body.dump();
    t.equal(s.oauth.tokenRequests, requests, 'valid tokens are not fetched again');
  },
);
