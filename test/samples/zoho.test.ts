import t from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { ZOHO_CLIENT, startZoho } from '../fixtures/imitations/zoho.js';
import {
  call,
  joinedUrl,
  loadSample,
  startSampleProxy,
} from '../fixtures/imitations/sample-harness.js';

const credentials = (origin: string) => ({
  HostName: origin,
  TokenURI: `POST ${origin}/oauth/v2/token`,
  ClientID: ZOHO_CLIENT.clientId,
  ClientSecret: ZOHO_CLIENT.clientSecret,
  RefreshToken: ZOHO_CLIENT.refreshToken,
});

t.test(
  'samples/zoho.ini as shipped: POST, parameters in the query string, Zoho-oauthtoken scheme',
  async (t) => {
    const { dsn } = await loadSample(t, 'zoho.ini', 'zoho-crm');
    t.equal(dsn.tokenEndpoint?.method, 'POST');
    t.equal(dsn.tokenEndpoint?.url.href, 'https://accounts.zoho.com/oauth/v2/token');
    t.equal(dsn.clientCredentialsMode, 2);
    t.equal(dsn.tokenRequestFormat, 'query');
    t.equal(dsn.tokenScheme, 'Zoho-oauthtoken');
  },
);

t.test(
  'token request as Zoho documents it: POST /oauth/v2/token?refresh_token&client_id&client_secret&grant_type',
  async (t) => {
    const zoho = await startZoho();
    t.teardown(() => zoho.close());
    const { dsn } = await loadSample(t, 'zoho.ini', 'zoho-crm', credentials(zoho.origin));
    const provider = createCredentialProvider(dsn);
    t.teardown(() => provider.close());

    const credential = await provider.credential();
    const [req, ...more] = zoho.requestsTo('/oauth/v2/token');
    t.equal(more.length, 0);
    t.equal(req!.method, 'POST');
    t.equal(req!.body, '', 'no body');
    t.equal(req!.headers.authorization, undefined);
    t.same(Object.fromEntries(req!.url.searchParams), {
      client_id: ZOHO_CLIENT.clientId,
      client_secret: ZOHO_CLIENT.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: ZOHO_CLIENT.refreshToken,
    });
    t.same(credential.headers, [['Authorization', `Zoho-oauthtoken ${zoho.issued[0]}`]]);
  },
);

t.test(
  'with form bodies (the default) Zoho sees no parameters and answers invalid_client with HTTP 200',
  async (t) => {
    const zoho = await startZoho();
    t.teardown(() => zoho.close());
    const { dsn } = await loadSample(t, 'zoho.ini', 'zoho-crm', {
      ...credentials(zoho.origin),
      TokenRequestFormat: 'form',
      ClientCredentialsMode: '3',
    });
    const provider = createCredentialProvider(dsn);
    t.teardown(() => provider.close());
    await t.rejects(provider.credential(), {
      code: 'TOKENSHIM_NEEDS_LOGIN',
      message: /invalid_client/,
    });
  },
);

t.test(
  'page-number pagination through the proxy: page=1, 2, ... while info.more_records',
  async (t) => {
    const zoho = await startZoho({ leads: 5 });
    t.teardown(() => zoho.close());
    const { dsn } = await loadSample(t, 'zoho.ini', 'zoho-crm', credentials(zoho.origin));
    const proxy = await startSampleProxy(t, [dsn]);

    const leads: string[] = [];
    let page = 1;
    for (let more = true; more && page < 10; page++) {
      const res = await call(
        proxy.url(
          'zoho-crm',
          `/crm/v7/Leads?fields=Last_Name,Company,Email&page=${page}&per_page=2`,
        ),
      );
      t.equal(res.status, 200);
      const body = res.json<{
        data: { Last_Name: string }[];
        info: { page: number; more_records: boolean };
      }>();
      t.equal(body.info.page, page);
      leads.push(...body.data.map((d) => d.Last_Name));
      more = body.info.more_records;
    }
    t.equal(page - 1, 3, '2 + 2 + 1 leads');
    t.same(leads, ['Lead 1', 'Lead 2', 'Lead 3', 'Lead 4', 'Lead 5']);
    t.ok(
      zoho
        .requestsTo('/crm/v7/Leads')
        .every((r) => r.headers.authorization === `Zoho-oauthtoken ${zoho.issued[0]}`),
      'Zoho-oauthtoken on every page',
    );
  },
);

t.test(
  'an expired Zoho token (401 INVALID_TOKEN) is refreshed and the page fetched again',
  async (t) => {
    const zoho = await startZoho();
    t.teardown(() => zoho.close());
    const { dsn } = await loadSample(t, 'zoho.ini', 'zoho-crm', credentials(zoho.origin));
    const proxy = await startSampleProxy(t, [dsn]);
    const url = proxy.url('zoho-crm', '/crm/v7/Leads?fields=Last_Name&page=1');
    t.equal((await call(url)).status, 200);
    zoho.expireAccessTokens();
    const res = await call(url);
    t.equal(res.status, 200);
    t.equal(zoho.issued.length, 2);
  },
);

t.test(
  "Zoho's invalid_code (a revoked refresh token, sent with HTTP 200) stops the DSN until a new login",
  async (t) => {
    const zoho = await startZoho();
    t.teardown(() => zoho.close());
    const { dsn } = await loadSample(t, 'zoho.ini', 'zoho-crm', {
      ...credentials(zoho.origin),
      RefreshToken: '1000.revoked.refresh',
    });
    const provider = createCredentialProvider(dsn);
    t.teardown(() => provider.close());
    await t.rejects(provider.credential(), {
      code: 'TOKENSHIM_NEEDS_LOGIN',
      message: /invalid_code/,
    });
    await t.rejects(provider.credential(), { code: 'TOKENSHIM_NEEDS_LOGIN' });
    t.equal(zoho.requestsTo('/oauth/v2/token').length, 1, 'not hammered with retries');
    t.equal(provider.status().state, 'needs-login');
  },
);

t.test('joined pages: every lead by page number, ended by a short page', async (t) => {
  const zoho = await startZoho({ leads: 5 });
  t.teardown(() => zoho.close());
  const { dsn } = await loadSample(t, 'zoho.ini', 'zoho-crm', credentials(zoho.origin));
  const proxy = await startSampleProxy(t, [dsn]);
  const res = await call(
    joinedUrl('zoho.ini', proxy.server.url, { per_page: '2', 'tokenshim.size': '2' }),
  );
  t.equal(res.status, 200);
  t.equal(res.json<unknown[]>().length, 5);
  t.same(
    zoho.requestsTo('/crm/v7/Leads').map((r) => r.url.searchParams.get('page')),
    ['1', '2', '3'],
  );
  const even = await startZoho({ leads: 4 });
  t.teardown(() => even.close());
  const evenDsn = await loadSample(t, 'zoho.ini', 'zoho-crm', credentials(even.origin));
  const evenProxy = await startSampleProxy(t, [evenDsn.dsn]);
  const all = await call(
    joinedUrl('zoho.ini', evenProxy.server.url, { per_page: '2', 'tokenshim.size': '2' }),
  );
  t.equal(all.json<unknown[]>().length, 4, "a full last page: Zoho's 204 after it ends the walk");
});
