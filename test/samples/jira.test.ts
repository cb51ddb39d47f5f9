import { readFileSync } from 'node:fs';
import t from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { TOKEN_TIMING } from '../../lib/auth/token/token-timing.js';
import { FakeClock } from '../../lib/clock.js';
import {
  ATLASSIAN_CLIENT,
  jiraSampleOverrides,
  startAtlassian,
} from '../fixtures/imitations/atlassian.js';
import {
  call,
  capturingLogger,
  joinedUrl,
  loadSample,
  startSampleProxy,
} from '../fixtures/imitations/sample-harness.js';

const credentials = jiraSampleOverrides;

t.test(
  'samples/jira.ini as shipped: JSON token body, credentials in it, refresh on 401 and 403',
  async (t) => {
    const { dsn } = await loadSample(t, 'jira.ini', 'jira');
    t.equal(dsn.tokenEndpoint?.method, 'POST');
    t.equal(dsn.tokenEndpoint?.url.href, 'https://auth.atlassian.com/oauth/token');
    t.equal(dsn.tokenRequestFormat, 'json');
    t.equal(dsn.clientCredentialsMode, 3);
    t.same(dsn.refreshOnStatus, [401, 403]);
    t.equal(dsn.upstream?.pathname, '/ex/jira/your-cloud-id');
  },
);

t.test(
  'token request as Atlassian documents it: POST application/json with all four fields',
  async (t) => {
    const jira = await startAtlassian();
    t.teardown(() => jira.close());
    const { dsn } = await loadSample(t, 'jira.ini', 'jira', credentials(jira.origin));
    const provider = createCredentialProvider(dsn);
    t.teardown(() => provider.close());
    await provider.credential();
    const [req] = jira.requestsTo('/oauth/token');
    t.equal(req!.method, 'POST');
    t.equal(req!.headers['content-type'], 'application/json');
    t.equal(req!.headers.authorization, undefined);
    t.same(JSON.parse(req!.body), {
      grant_type: 'refresh_token',
      refresh_token: ATLASSIAN_CLIENT.refreshToken,
      client_id: ATLASSIAN_CLIENT.clientId,
      client_secret: ATLASSIAN_CLIENT.clientSecret,
    });
  },
);

t.test(
  'rotating refresh tokens: each refresh redeems the one the last answer carried, saved to disk first',
  async (t) => {
    const jira = await startAtlassian();
    t.teardown(() => jira.close());
    const { dsn, tokenFile } = await loadSample(t, 'jira.ini', 'jira', credentials(jira.origin));
    // the rounds lie a rejection interval apart on the proxy's clock: a token rejected again
    // right after it replaced a rejected one is kept (one refresh per interval, not per 401)
    const clock = new FakeClock(Date.now());
    const proxy = await startSampleProxy(t, [dsn], { clock });
    const url = proxy.url('jira', '/rest/api/3/project/search?startAt=0&maxResults=50');

    t.equal((await call(url)).status, 200);
    for (let round = 1; round <= 2; round++) {
      clock.advance(TOKEN_TIMING.rejectionIntervalMs);
      jira.expireAccessTokens();
      const res = await call(url);
      t.equal(
        res.status,
        200,
        `round ${round}: the 403 meaning "expired" was refreshed and replayed`,
      );
    }
    t.equal(jira.redeemed.length, 3);
    t.equal(jira.redeemed[0], ATLASSIAN_CLIENT.refreshToken);
    t.not(jira.redeemed[1], jira.redeemed[0], 'the second refresh used the rotated token');
    t.not(jira.redeemed[2], jira.redeemed[1]);
    const stored = readFileSync(tokenFile, 'utf8');
    t.ok(
      stored.includes(jira.currentRefreshToken),
      'the newest refresh token is in the token store',
    );
    const calls = jira.requestsTo(`/ex/jira/${ATLASSIAN_CLIENT.cloudId}/rest/api/3/project/search`);
    t.same(
      calls.map((c) => c.headers.authorization),
      [jira.issued[0], jira.issued[0], jira.issued[1], jira.issued[1], jira.issued[2]].map(
        (tok) => `Bearer ${tok}`,
      ),
      'sent, rejected with 403, replayed with the new token',
    );
  },
);

t.test(
  'a restart reads the rotated refresh token from the store, not the spent one in the ini',
  async (t) => {
    const jira = await startAtlassian();
    t.teardown(() => jira.close());
    const { dsn } = await loadSample(t, 'jira.ini', 'jira', credentials(jira.origin));
    const first = createCredentialProvider(dsn);
    await first.credential();
    await first.close();
    const second = createCredentialProvider(dsn);
    t.teardown(() => second.close());
    second.invalidate(await second.credential());
    await second.credential();
    t.equal(jira.redeemed.length, 2);
    t.not(
      jira.redeemed[1],
      ATLASSIAN_CLIENT.refreshToken,
      'the spent ini token was not sent again',
    );
  },
);

t.test(
  'offset pagination through the proxy: startAt steps by maxResults until isLast',
  async (t) => {
    const jira = await startAtlassian({ projects: 5 });
    t.teardown(() => jira.close());
    const { dsn } = await loadSample(t, 'jira.ini', 'jira', credentials(jira.origin));
    const proxy = await startSampleProxy(t, [dsn]);
    const keys: string[] = [];
    let startAt = 0;
    for (let last = false; !last && startAt < 100;) {
      const res = await call(
        proxy.url('jira', `/rest/api/3/project/search?startAt=${startAt}&maxResults=2`),
      );
      t.equal(res.status, 200);
      const body = res.json<{
        values: { key: string }[];
        isLast: boolean;
        maxResults: number;
        total: number;
      }>();
      keys.push(...body.values.map((v) => v.key));
      last = body.isLast;
      startAt += body.maxResults;
    }
    t.same(keys, ['PRJ1', 'PRJ2', 'PRJ3', 'PRJ4', 'PRJ5']);
  },
);

t.test(
  'a refresh token Atlassian refuses (403 unauthorized_client) stops the DSN with a login hint',
  async (t) => {
    const jira = await startAtlassian();
    t.teardown(() => jira.close());
    const log = capturingLogger();
    const { dsn } = await loadSample(t, 'jira.ini', 'jira', {
      ...credentials(jira.origin),
      RefreshToken: 'spent-refresh-token-value',
    });
    const proxy = await startSampleProxy(t, [dsn], { logger: log.logger });
    const res = await call(proxy.url('jira', '/rest/api/3/project/search'));
    t.equal(res.status, 502);
    const problem = res.json<{ code: string; detail: string }>();
    t.equal(problem.code, 'TOKENSHIM_NEEDS_LOGIN');
    t.match(problem.detail, /refresh_token is invalid/);
    t.match(problem.detail, /tokenshim login jira/);
    t.equal(jira.requestsTo('/oauth/token').length, 1, 'not retried: the error is terminal');
    for (const secret of ['spent-refresh-token-value', ATLASSIAN_CLIENT.clientSecret]) {
      t.notOk(res.text.includes(secret));
      t.notOk(log.text().includes(secret));
    }
  },
);

t.test(
  'joined pages: every project by offset, and an expired token mid-way (403) refreshed and replayed',
  async (t) => {
    const jira = await startAtlassian({ projects: 5 });
    t.teardown(() => jira.close());
    const { dsn } = await loadSample(t, 'jira.ini', 'jira', credentials(jira.origin));
    const proxy = await startSampleProxy(t, [dsn]);
    let pages = 0;
    jira.onRequest((req) => {
      // Atlassian's gateway answers the token that expired under page 2 with 403
      if (req.url.pathname.endsWith('/project/search') && ++pages === 2) jira.expireAccessTokens();
    });
    const res = await call(
      joinedUrl('jira.ini', proxy.server.url, { maxResults: '2', 'tokenshim.size': '2' }),
    );
    t.equal(res.status, 200);
    t.same(
      res.json<{ key: string }[]>().map((p) => p.key),
      ['PRJ1', 'PRJ2', 'PRJ3', 'PRJ4', 'PRJ5'],
    );
    t.same(
      jira
        .requestsTo(`/ex/jira/${ATLASSIAN_CLIENT.cloudId}/rest/api/3/project/search`)
        .map((r) => r.url.searchParams.get('startAt')),
      ['0', '2', '2', '4'],
      'page 2 sent again after the refresh',
    );
    t.equal(jira.redeemed.length, 2, 'the rotated refresh token was used for the second token');
  },
);
