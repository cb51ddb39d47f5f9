import t from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { GOOGLE_CLIENT, startGoogle } from '../fixtures/imitations/google.js';
import {
  call,
  capturingLogger,
  loadSample,
  startSampleProxy,
} from '../fixtures/imitations/sample-harness.js';

const credentials = (origin: string) => ({
  HostName: origin,
  TokenURI: `POST ${origin}/token`,
  ClientID: GOOGLE_CLIENT.clientId,
  ClientSecret: GOOGLE_CLIENT.clientSecret,
  RefreshToken: GOOGLE_CLIENT.refreshToken,
});

t.test(
  'samples/google-analytics.ini as shipped: POST refresh grant, credentials in the body',
  async (t) => {
    const { dsn } = await loadSample(t, 'google-analytics.ini', 'google-analytics');
    t.equal(dsn.tokenEndpoint?.method, 'POST');
    t.equal(dsn.tokenEndpoint?.url.href, 'https://oauth2.googleapis.com/token');
    t.equal(dsn.clientCredentialsMode, 3);
    t.equal(dsn.grantType, 'refresh_token');
    t.equal(dsn.tokenRequestFormat, 'form');
    t.equal(dsn.scope, 'https://www.googleapis.com/auth/analytics.readonly');
  },
);

t.test(
  'token request as Google documents it: POST form body with client_id, client_secret, refresh_token',
  async (t) => {
    const google = await startGoogle();
    t.teardown(() => google.close());
    const { dsn } = await loadSample(
      t,
      'google-analytics.ini',
      'google-analytics',
      credentials(google.origin),
    );
    const provider = createCredentialProvider(dsn);
    t.teardown(() => provider.close());

    const credential = await provider.credential();
    const [req] = google.requestsTo('/token');
    t.equal(req!.method, 'POST');
    t.equal(req!.headers['content-type'], 'application/x-www-form-urlencoded');
    t.equal(req!.headers.authorization, undefined, 'no Basic header: ClientCredentialsMode=3');
    t.equal(req!.url.search, '', 'nothing in the URL');
    t.same(Object.fromEntries(new URLSearchParams(req!.body)), {
      grant_type: 'refresh_token',
      refresh_token: GOOGLE_CLIENT.refreshToken,
      scope: 'https://www.googleapis.com/auth/analytics.readonly',
      client_id: GOOGLE_CLIENT.clientId,
      client_secret: GOOGLE_CLIENT.clientSecret,
    });
    t.same(credential.headers, [['Authorization', `Bearer ${google.issued[0]}`]]);
  },
);

t.test(
  'runReport through the proxy: the JSON body reaches Google, and is replayed after a 401',
  async (t) => {
    const google = await startGoogle({ reportRows: 3 });
    t.teardown(() => google.close());
    const { dsn } = await loadSample(
      t,
      'google-analytics.ini',
      'google-analytics',
      credentials(google.origin),
    );
    const proxy = await startSampleProxy(t, [dsn]);
    const report = {
      dateRanges: [{ startDate: '2026-01-01', endDate: 'today' }],
      dimensions: [{ name: 'country' }],
      metrics: [{ name: 'activeUsers' }],
      limit: '2',
      offset: '0',
    };
    const url = proxy.url('google-analytics', '/v1beta/properties/123456789:runReport');
    const send = (offset: string) =>
      call(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...report, offset }),
      });

    const first = await send('0');
    t.equal(first.status, 200);
    t.equal(first.json<{ rowCount: number; rows: unknown[] }>().rows.length, 2);

    google.expireAccessTokens();
    const second = await send('2');
    t.equal(second.status, 200, 'the 401 was answered by a refresh and a replay');
    t.equal(
      second.json<{ rows: unknown[] }>().rows.length,
      1,
      'offset 2 of 3 rows: the replayed body is the one sent',
    );
    const calls = google.requestsTo('/v1beta/properties/123456789:runReport');
    t.equal(calls.length, 3, 'first, rejected, replayed');
    t.equal(calls[2]!.body, calls[1]!.body);
    t.equal(calls[2]!.headers.authorization, `Bearer ${google.issued[1]}`);
    t.equal(google.requestsTo('/token').length, 2);
  },
);

t.test(
  'a revoked refresh token: needs login, said once per request, no secret in body or log',
  async (t) => {
    const google = await startGoogle();
    t.teardown(() => google.close());
    google.revokeRefreshToken();
    const log = capturingLogger();
    const { dsn } = await loadSample(
      t,
      'google-analytics.ini',
      'google-analytics',
      credentials(google.origin),
    );
    const proxy = await startSampleProxy(t, [dsn], { logger: log.logger });
    const res = await call(proxy.url('google-analytics', '/v1beta/properties/1:runReport'), {
      method: 'POST',
      body: '{}',
    });
    t.equal(res.status, 502);
    const problem = res.json<{ code: string; dsn: string; detail: string }>();
    t.equal(problem.code, 'TOKENSHIM_NEEDS_LOGIN');
    t.equal(problem.dsn, 'google-analytics');
    t.match(problem.detail, /Token has been expired or revoked/);
    for (const secret of [GOOGLE_CLIENT.clientSecret, GOOGLE_CLIENT.refreshToken]) {
      t.notOk(res.text.includes(secret), 'not in the response');
      t.notOk(log.text().includes(secret), 'not in the log');
    }
  },
);
