import t from 'tap';
import { request } from 'undici';
import { parseExposition, rawSamples, sample } from '../../metrics/parse-exposition.js';
import { startOperationsScenario } from './operations-scenario.js';

t.test(
  'metrics: Prometheus text for requests, latency, token events, replays and expiry',
  async (t) => {
    const s = await startOperationsScenario(t);
    const get = async (path: string, init: { method?: 'GET' | 'POST'; body?: string } = {}) => {
      const res = await request(`${s.proxy.url}${path}`, init);
      await res.body.dump();
      return res.statusCode;
    };
    t.equal(await get('/crm/accounts'), 200);
    t.equal(await get('/crm/accounts?page=2'), 200);
    t.equal(await get('/crm/broken'), 500);
    t.equal(await get('/crm/accounts', { method: 'POST', body: '{}' }), 200);
    t.equal(await get('/mkto/v1/leads.json?filterType=email'), 200);
    t.equal(await get('/erp/orders'), 502);
    t.equal(await get('/static/ping'), 200);
    // the upstream revokes crm's token early: 401, one refresh, the request is replayed
    const crmToken = s.upstream.requests.find((r) => r.url.startsWith('/crm/'))?.headers
      .authorization;
    s.revoke(String(crmToken).slice('Bearer '.length));
    t.equal(await get('/crm/accounts'), 200);

    const res = await request(`${s.proxy.url}/_tokenshim/metrics`);
    t.equal(res.statusCode, 200);
    t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    const text = await res.body.text();
    const families = parseExposition(text);
    const value = (name: string, labels: Record<string, string>): number =>
      Number(sample(families, name, labels)?.value);

    t.equal(
      value('tokenshim_requests_total', { dsn: 'crm', method: 'GET', status_class: '2xx' }),
      3,
    );
    t.equal(
      value('tokenshim_requests_total', { dsn: 'crm', method: 'GET', status_class: '5xx' }),
      1,
    );
    t.equal(
      value('tokenshim_requests_total', { dsn: 'crm', method: 'POST', status_class: '2xx' }),
      1,
    );
    t.equal(
      value('tokenshim_requests_total', { dsn: 'mkto', method: 'GET', status_class: '2xx' }),
      1,
    );
    t.equal(
      value('tokenshim_requests_total', { dsn: 'erp', method: 'GET', status_class: '5xx' }),
      1,
    );
    t.equal(value('tokenshim_upstream_replays_total', { dsn: 'crm' }), 1);

    t.equal(
      value('tokenshim_token_requested_total', { dsn: 'crm' }),
      2,
      'first token, then the refresh after the 401',
    );
    t.equal(value('tokenshim_token_fetched_total', { dsn: 'crm' }), 2);
    t.equal(value('tokenshim_token_refreshes_total', { dsn: 'crm', trigger: 'on_demand' }), 2);
    t.equal(value('tokenshim_token_fetch_failed_total', { dsn: 'erp', reason: 'oauth_error' }), 1);
    const expiresIn = value('tokenshim_token_expires_in_seconds', { dsn: 'crm' });
    t.ok(
      expiresIn > 3500 && expiresIn <= 3600,
      `crm's token expires in about an hour (${expiresIn})`,
    );
    t.notOk(sample(families, 'tokenshim_token_expires_in_seconds', { dsn: 'static' }));

    const count = rawSamples(text, 'tokenshim_upstream_duration_seconds_count').find(
      (x) => x.labels['dsn'] === 'crm',
    );
    t.equal(count?.value, 5, 'five crm requests reached the upstream: one latency sample each');
    t.equal(
      rawSamples(text, 'tokenshim_upstream_duration_seconds_count').find(
        (x) => x.labels['dsn'] === 'erp',
      ),
      undefined,
      'erp never reached the upstream',
    );
  },
);
