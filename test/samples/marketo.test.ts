import t, { type Test } from 'tap';
import { FakeClock } from '../../lib/clock.js';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import {
  MARKETO_CLIENT,
  startMarketo,
  type MarketoImitation,
} from '../fixtures/imitations/marketo.js';
import {
  call,
  capturingLogger,
  joinedUrl,
  loadSample,
  startSampleProxy,
  waitFor,
} from '../fixtures/imitations/sample-harness.js';

async function marketo(t: Test) {
  const imitation = await startMarketo({ programs: 5 });
  t.teardown(() => imitation.close());
  return imitation;
}

const credentials = (origin: string, extra: Record<string, string> = {}) => ({
  HostName: origin,
  TokenURI: `${origin}/identity/oauth/token`,
  ClientID: MARKETO_CLIENT.clientId,
  ClientSecret: MARKETO_CLIENT.clientSecret,
  ...extra,
});

t.test(
  'samples/marketo.ini as shipped: GET token endpoint, credentials in the URL, Bearer header',
  async (t) => {
    const { dsn } = await loadSample(t, 'marketo.ini', 'marketo');
    t.equal(dsn.tokenEndpoint?.method, 'GET', 'no POST prefix: DataDirect sends GET');
    t.equal(dsn.tokenEndpoint?.url.pathname, '/identity/oauth/token');
    t.equal(dsn.clientCredentialsMode, 2);
    t.equal(dsn.grantType, 'client_credentials');
    t.same(dsn.tokenPlacement, { kind: 'header', name: 'Authorization', scheme: true });
    t.same(dsn.refreshOnBody, [{ path: 'errors.code', values: ['601', '602'] }]);
  },
);

t.test(
  'token request as Marketo documents it: GET ?grant_type=client_credentials&client_id&client_secret',
  async (t) => {
    const imitation = await marketo(t);
    const { dsn } = await loadSample(t, 'marketo.ini', 'marketo', credentials(imitation.origin));
    const provider = createCredentialProvider(dsn);
    t.teardown(() => provider.close());

    const credential = await provider.credential();
    const [req, ...more] = imitation.requestsTo('/identity/oauth/token');
    t.equal(more.length, 0, 'one token request');
    t.equal(req!.method, 'GET');
    t.equal(req!.body, '', 'nothing in a body');
    t.equal(
      req!.headers.authorization,
      undefined,
      'no Basic header: the credentials are in the URL',
    );
    const q = req!.url.searchParams;
    t.equal(q.get('grant_type'), 'client_credentials');
    t.equal(q.get('client_id'), MARKETO_CLIENT.clientId);
    t.equal(
      q.get('client_secret'),
      MARKETO_CLIENT.clientSecret,
      'secret with + / = & survives URL encoding',
    );
    t.same(
      credential.headers,
      [['Authorization', `Bearer ${imitation.issued[0]}`]],
      'token_type "bearer" sent as Bearer',
    );
    t.same(credential.query, []);
  },
);

t.test(
  'programs.json through the proxy: no token step in the client, token in the header',
  async (t) => {
    const imitation = await marketo(t);
    const { dsn } = await loadSample(t, 'marketo.ini', 'marketo', credentials(imitation.origin));
    const proxy = await startSampleProxy(t, [dsn]);

    const res = await call(
      proxy.url('marketo', '/rest/asset/v1/programs.json?maxReturn=200&offset=0'),
    );
    t.equal(res.status, 200);
    const body = res.json<{ success: boolean; result: { id: number }[] }>();
    t.equal(body.success, true);
    t.equal(body.result.length, imitation.programCount);
    const apiCall = imitation.requestsTo('/rest/asset/v1/programs.json')[0]!;
    t.equal(apiCall.headers.authorization, `Bearer ${imitation.issued[0]}`);
    t.equal(apiCall.url.searchParams.get('access_token'), null, 'not in the URL as well');
    t.equal(apiCall.url.search, '?maxReturn=200&offset=0', 'the client query passes unchanged');
  },
);

t.test(
  'TokenPlacement=query:access_token puts the token where older Marketo integrations read it',
  async (t) => {
    const imitation = await marketo(t);
    const { dsn } = await loadSample(
      t,
      'marketo.ini',
      'marketo',
      credentials(imitation.origin, { TokenPlacement: 'query:access_token' }),
    );
    const proxy = await startSampleProxy(t, [dsn]);
    const res = await call(
      proxy.url('marketo', '/rest/asset/v1/programs.json?maxReturn=2&offset=4'),
    );
    t.equal(res.status, 200);
    t.equal(res.json<{ result: unknown[] }>().result.length, 1, 'offset 4 of 5 programs');
    const apiCall = imitation.requestsTo('/rest/asset/v1/programs.json')[0]!;
    t.equal(apiCall.url.searchParams.get('access_token'), imitation.issued[0]);
    t.equal(apiCall.headers.authorization, undefined);
  },
);

t.test(
  'Marketo reports an expired token with HTTP 200 (602): refresh ahead of expiry prevents it',
  async (t) => {
    const imitation = await marketo(t);
    const clock = new FakeClock();
    const { dsn } = await loadSample(t, 'marketo.ini', 'marketo', credentials(imitation.origin));
    const proxy = await startSampleProxy(t, [dsn], { clock });

    t.equal((await call(proxy.url('marketo', '/rest/asset/v1/programs.json'))).status, 200);
    // Marketo tokens live 3599 s; RefreshMargin 300 s: at 3400 s the token is replaced ahead of time
    clock.advance(3400 * 1000);
    await waitFor(() => imitation.issued.length === 2);
    t.equal(imitation.requestsTo('/rest/asset/v1/programs.json').length, 1);
  },
);

for (const [what, kill] of [
  ['revoked (601)', (m: MarketoImitation) => m.revokeAccessTokens()],
  ['expired early (602)', (m: MarketoImitation) => m.expireAccessTokens()],
] as const) {
  t.test(
    `a token Marketo ${what} in a 200 answer: RefreshOnBody gets a new one and asks again`,
    async (t) => {
      const imitation = await marketo(t);
      const { dsn } = await loadSample(t, 'marketo.ini', 'marketo', credentials(imitation.origin));
      const proxy = await startSampleProxy(t, [dsn]);
      t.equal((await call(proxy.url('marketo', '/rest/asset/v1/programs.json'))).status, 200);
      kill(imitation);
      const res = await call(proxy.url('marketo', '/rest/asset/v1/programs.json'));
      t.equal(res.status, 200);
      const body = res.json<{ success: boolean; result: unknown[] }>();
      t.equal(body.success, true, 'the client never sees the dead token');
      t.equal(body.result.length, imitation.programCount);
      t.equal(imitation.issued.length, 2, 'one new token');
      const calls = imitation.requestsTo('/rest/asset/v1/programs.json');
      t.same(
        calls.map((c) => c.headers.authorization),
        [1, 1, 2].map((n) => `Bearer ${imitation.issued[n - 1]}`),
      );
    },
  );
}

t.test('a 429 rate limit is waited out (RetryOnStatus) and the load goes on', async (t) => {
  const imitation = await marketo(t);
  const clock = new FakeClock();
  const { dsn } = await loadSample(t, 'marketo.ini', 'marketo', credentials(imitation.origin));
  const proxy = await startSampleProxy(t, [dsn], { clock });
  t.equal((await call(proxy.url('marketo', '/rest/asset/v1/programs.json'))).status, 200);
  const timers = clock.pending; // the token's refresh-ahead timer
  imitation.rateLimit(1, 20);
  const pending = call(proxy.url('marketo', '/rest/asset/v1/programs.json'));
  await waitFor(() => clock.pending > timers, 'the retry timer');
  t.equal(imitation.requestsTo('/rest/asset/v1/programs.json').length, 2, 'the 429');
  clock.advance(20_000);
  const res = await pending;
  t.equal(res.status, 200);
  t.equal(res.json<{ success: boolean }>().success, true);
  t.equal(imitation.requestsTo('/rest/asset/v1/programs.json').length, 3);
});

t.test(
  'bad client credentials: a problem body naming the DSN, and no secret in it or in the log',
  async (t) => {
    const imitation = await marketo(t);
    const log = capturingLogger();
    const { dsn } = await loadSample(
      t,
      'marketo.ini',
      'marketo',
      credentials(imitation.origin, { ClientSecret: 'wrong-secret-value-0123' }),
    );
    const proxy = await startSampleProxy(t, [dsn], { logger: log.logger });
    const res = await call(proxy.url('marketo', '/rest/asset/v1/programs.json'));
    t.equal(res.status, 502);
    t.match(res.headers.get('content-type'), /application\/problem\+json/);
    const problem = res.json<{ code: string; dsn: string; detail: string }>();
    t.equal(problem.dsn, 'marketo');
    t.match(problem.detail, /invalid_client: Bad client credentials/, "quotes Marketo's words");
    for (const secret of [
      'wrong-secret-value-0123',
      MARKETO_CLIENT.clientSecret,
      encodeURIComponent('wrong-secret-value-0123'),
    ]) {
      t.notOk(res.text.includes(secret), 'not in the response');
      t.notOk(log.text().includes(secret), 'not in the log');
    }
    t.notOk(problem.detail.includes('client_secret='), 'the token URL is quoted without its query');
  },
);

t.test('joined pages: every lead of a list, nextPageToken sent back URL-encoded', async (t) => {
  const marketo = await startMarketo({ leads: 7 });
  t.teardown(() => marketo.close());
  const { dsn } = await loadSample(t, 'marketo.ini', 'marketo', credentials(marketo.origin));
  const proxy = await startSampleProxy(t, [dsn]);
  const res = await call(joinedUrl('marketo.ini', proxy.server.url, { batchSize: '3' }));
  t.equal(res.status, 200);
  t.same(
    res.json<{ email: string }[]>().map((l) => l.email),
    Array.from({ length: 7 }, (_, i) => `lead${i + 1}@example.com`),
  );
  const pages = marketo.requestsTo('/rest/v1/lists/1001/leads.json');
  t.equal(pages.length, 3);
  t.match(pages[1]!.target, /nextPageToken=[A-Za-z0-9%]+(&|$)/, 'base64 +/= sent percent-encoded');
  t.equal(marketo.requestsTo('/identity/oauth/token').length, 1);
});
