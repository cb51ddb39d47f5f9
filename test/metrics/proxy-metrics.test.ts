import t from 'tap';
import { Counter, Registry } from 'prom-client';
import type { TokenStatus } from '../../lib/auth/credential.js';
import { FakeClock } from '../../lib/clock.js';
import { ProxyMetrics } from '../../lib/metrics/proxy-metrics.js';
import { parseExposition, rawSamples, sample } from './parse-exposition.js';

t.test('requests are counted by DSN, method and status class', async (t) => {
  const metrics = new ProxyMetrics({ processMetrics: false });
  const crm = metrics.forDsn('crm');
  crm.request('GET', 200);
  crm.request('GET', 204);
  crm.request('POST', 401);
  crm.request('PROPFIND', 502);
  metrics.forDsn('erp').request('GET', 200);

  const families = parseExposition((await metrics.render()).body);
  const requests = (labels: Record<string, string>): string | undefined =>
    sample(families, 'tokenshim_requests_total', labels)?.value;
  t.equal(requests({ dsn: 'crm', method: 'GET', status_class: '2xx' }), '2');
  t.equal(requests({ dsn: 'crm', method: 'POST', status_class: '4xx' }), '1');
  t.equal(
    requests({ dsn: 'crm', method: 'other', status_class: '5xx' }),
    '1',
    'unknown methods share one label value, so a client cannot grow the series without bound',
  );
  t.equal(requests({ dsn: 'erp', method: 'GET', status_class: '2xx' }), '1');
  t.same(crm.counts(), {
    total: 4,
    byStatusClass: { '1xx': 0, '2xx': 2, '3xx': 0, '4xx': 1, '5xx': 1 },
    replays: 0,
    retries: 0,
  });
});

t.test('RetryOnStatus retries are counted per DSN, each retry once', async (t) => {
  const metrics = new ProxyMetrics({ processMetrics: false });
  const ended = { method: 'GET', status: 200, replayed: false, path: '/x', durationSeconds: 1 };
  metrics.exchangeEnded({ ...ended, dsn: 'crm', retries: 2 });
  metrics.exchangeEnded({ ...ended, dsn: 'crm', retries: 0 });
  metrics.exchangeEnded({ ...ended, dsn: 'erp', retries: 1 });
  const families = parseExposition((await metrics.render()).body);
  t.equal(sample(families, 'tokenshim_upstream_retries_total', { dsn: 'crm' })?.value, '2');
  t.equal(sample(families, 'tokenshim_upstream_retries_total', { dsn: 'erp' })?.value, '1');
  t.equal(metrics.forDsn('crm').counts().retries, 2);
});

t.test('request counts render as prom-client renders a labelled Counter', async (t) => {
  const metrics = new ProxyMetrics({ processMetrics: false });
  const reference = new Registry();
  const counter = new Counter({
    name: 'tokenshim_requests_total',
    help: 'Requests answered, by DSN, method and status class (upstream answers and tokenshim errors)',
    labelNames: ['dsn', 'method', 'status_class'],
    registers: [reference],
  });
  const requests: [string, string, number, string, string][] = [
    ['erp', 'POST', 201, 'POST', '2xx'],
    ['crm', 'GET', 200, 'GET', '2xx'],
    ['erp', 'POST', 500, 'POST', '5xx'],
    ['crm', 'PROPFIND', 404, 'other', '4xx'],
    ['erp', 'POST', 204, 'POST', '2xx'],
  ];
  for (const [dsn, method, status, methodLabel, statusClass] of requests) {
    metrics.forDsn(dsn).request(method, status);
    counter.labels(dsn, methodLabel, statusClass).inc();
  }
  const family = (text: string): string =>
    (text.split('\n\n').find((f) => f.includes('# TYPE tokenshim_requests_total')) ?? '').trim();
  const rendered = family((await metrics.render()).body);
  t.match(rendered, /\{dsn="erp",method="POST",status_class="2xx"\} 2/);
  t.equal(rendered, family(await reference.metrics()), 'same series, values and order');
  t.equal(
    family((await metrics.render()).body),
    rendered,
    'a second scrape renders the same counts again',
  );
});

t.test('upstream latency is a histogram per DSN', async (t) => {
  const metrics = new ProxyMetrics({ processMetrics: false });
  const crm = metrics.forDsn('crm');
  crm.upstreamLatency(0.003);
  crm.upstreamLatency(0.2);
  crm.upstreamLatency(7);
  const text = (await metrics.render()).body;
  t.equal(parseExposition(text).get('tokenshim_upstream_duration_seconds')?.type, 'HISTOGRAM');
  const bucket = (le: string): number | undefined =>
    rawSamples(text, 'tokenshim_upstream_duration_seconds_bucket').find(
      (s) => s.labels['dsn'] === 'crm' && s.labels['le'] === le,
    )?.value;
  t.equal(bucket('0.005'), 1);
  t.equal(bucket('0.25'), 2);
  t.equal(bucket('10'), 3);
  t.equal(bucket('+Inf'), 3);
  t.same(rawSamples(text, 'tokenshim_upstream_duration_seconds_count'), [
    { labels: { dsn: 'crm' }, value: 3 },
  ]);
  t.same(rawSamples(text, 'tokenshim_upstream_duration_seconds_sum'), [
    { labels: { dsn: 'crm' }, value: 7.203 },
  ]);
});

t.test(
  'token events: requested, fetched, failed by reason, ahead of expiry vs on demand',
  async (t) => {
    const metrics = new ProxyMetrics({ processMetrics: false });
    const crm = metrics.forDsn('crm');
    const base = { dsn: 'crm', grantType: 'refresh_token' } as const;
    const failed = { ...base, type: 'token_fetch_failed', terminal: false } as const;
    crm.tokenEvent({ ...base, type: 'token_requested', trigger: 'on_demand' });
    crm.tokenEvent({
      ...base,
      type: 'token_fetched',
      trigger: 'on_demand',
      lifetimeSeconds: 3600,
      refreshTokenRotated: true,
      fromStore: false,
    });
    crm.tokenEvent({ ...base, type: 'token_requested', trigger: 'ahead_of_expiry' });
    crm.tokenEvent({
      ...failed,
      trigger: 'ahead_of_expiry',
      reason: 'status_5xx',
      httpStatus: 503,
    });
    crm.tokenEvent({ ...base, type: 'token_requested', trigger: 'ahead_of_expiry' });
    crm.tokenEvent({
      ...failed,
      trigger: 'ahead_of_expiry',
      reason: 'oauth_error',
      terminal: true,
    });
    crm.tokenEvent({ ...failed, trigger: 'on_demand', reason: 'oauth_error', terminal: true });
    crm.replay();

    const families = parseExposition((await metrics.render()).body);
    const value = (name: string, labels: Record<string, string> = {}): string | undefined =>
      sample(families, name, { dsn: 'crm', ...labels })?.value;
    t.equal(value('tokenshim_token_requested_total'), '3');
    t.equal(value('tokenshim_token_fetched_total'), '1');
    t.equal(value('tokenshim_token_fetch_failed_total', { reason: 'status_5xx' }), '1');
    t.equal(value('tokenshim_token_fetch_failed_total', { reason: 'oauth_error' }), '2');
    t.equal(value('tokenshim_token_refreshes_total', { trigger: 'ahead_of_expiry' }), '2');
    t.equal(value('tokenshim_token_refreshes_total', { trigger: 'on_demand' }), '1');
    t.equal(value('tokenshim_upstream_replays_total'), '1');
    t.equal(crm.counts().replays, 1);
  },
);

t.test('seconds until expiry is read from the token state at scrape time', async (t) => {
  const clock = new FakeClock();
  const statuses = new Map<string, TokenStatus>([
    ['crm', { state: 'valid', expiresAt: clock.now() + 600_000, tokenRequests: 1 }],
    ['static', { state: 'static', tokenRequests: 0 }],
  ]);
  const metrics = new ProxyMetrics({ processMetrics: false, clock });
  metrics.forDsn('crm');
  metrics.forDsn('static');
  const tokenStatus = (dsn: string): TokenStatus | undefined => statuses.get(dsn);

  let families = parseExposition((await metrics.render(tokenStatus)).body);
  t.equal(sample(families, 'tokenshim_token_expires_in_seconds', { dsn: 'crm' })?.value, '600');
  t.notOk(
    sample(families, 'tokenshim_token_expires_in_seconds', { dsn: 'static' }),
    'a static credential has no expiry, so no sample rather than a made-up one',
  );

  clock.advance(660_000);
  families = parseExposition((await metrics.render(tokenStatus)).body);
  t.equal(sample(families, 'tokenshim_token_expires_in_seconds', { dsn: 'crm' })?.value, '-60');

  statuses.delete('crm');
  families = parseExposition((await metrics.render(tokenStatus)).body);
  t.notOk(
    sample(families, 'tokenshim_token_expires_in_seconds', { dsn: 'crm' }),
    'a DSN no longer served (removed by a reload) has no sample left over from the last scrape',
  );
});

t.test('each instance has its own registry; process metrics are prefixed', async (t) => {
  const a = new ProxyMetrics();
  const b = new ProxyMetrics();
  a.forDsn('crm').request('GET', 200);
  const rendered = await b.render();
  const families = parseExposition(rendered.body);
  t.notOk(sample(families, 'tokenshim_requests_total', { dsn: 'crm' }), 'b never saw a request');
  t.ok(families.has('tokenshim_process_cpu_user_seconds_total'));
  t.match(rendered.contentType, /^text\/plain; version=0\.0\.4/);
});
