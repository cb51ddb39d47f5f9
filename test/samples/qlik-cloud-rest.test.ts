import t, { type Test } from 'tap';
import {
  QLIK_M2M_CLIENT,
  startQlikCloud,
  type QlikCloudImitation,
} from '../fixtures/imitations/qlik-cloud.js';
import {
  call,
  joinedUrl,
  loadSample,
  startSampleProxy,
  type SampleProxy,
} from '../fixtures/imitations/sample-harness.js';

const overrides = (origin: string) => ({
  HostName: origin,
  TokenURI: `POST ${origin}/oauth/token`,
  ClientID: QLIK_M2M_CLIENT.clientId,
  ClientSecret: QLIK_M2M_CLIENT.clientSecret,
});

/** The tenant imitation with `items` items, behind the proxy on the shipped sample. */
async function cloudBehindProxy(
  t: Test,
  items: number,
): Promise<{ cloud: QlikCloudImitation; proxy: SampleProxy }> {
  const cloud = await startQlikCloud({ items });
  t.teardown(() => cloud.close());
  const { dsn } = await loadSample(
    t,
    'qlik-cloud-rest.ini',
    'qlik-cloud-rest',
    overrides(cloud.origin),
  );
  return { cloud, proxy: await startSampleProxy(t, [dsn]) };
}

t.test('samples/qlik-cloud-rest.ini as shipped: client credentials in a JSON body', async (t) => {
  const { dsn } = await loadSample(t, 'qlik-cloud-rest.ini', 'qlik-cloud-rest');
  t.equal(dsn.grantType, 'client_credentials');
  t.equal(dsn.tokenRequestFormat, 'json');
  t.equal(dsn.clientCredentialsMode, 3);
  t.equal(dsn.tokenEndpoint?.url.href, 'https://your-tenant.eu.qlikcloud.com/oauth/token');
  t.equal(dsn.rewriteBodyUrls, true);
});

t.test('one page at a time: links.next.href comes back on the gateway', async (t) => {
  const { proxy } = await cloudBehindProxy(t, 5);
  const ids: string[] = [];
  let next: string | undefined = proxy.url('qlik-cloud-rest', '/api/v1/items?limit=2');
  for (let pages = 0; next !== undefined && pages < 5; pages++) {
    t.ok(next.startsWith(proxy.url('qlik-cloud-rest', '/api/v1/items?')), next);
    const page = await call(next);
    const body = page.json<{
      data: { id: string; links: { self: { href: string } } }[];
      links: { next?: { href: string } };
    }>();
    ids.push(...body.data.map((d) => d.id));
    t.ok(
      body.data.every((d) =>
        d.links.self.href.startsWith(proxy.url('qlik-cloud-rest', '/api/v1/items/')),
      ),
    );
    next = body.links.next?.href;
  }
  t.same(ids, ['item-1', 'item-2', 'item-3', 'item-4', 'item-5']);
});

t.test('joined pages: the one URL of the sample answers every item', async (t) => {
  const { cloud, proxy } = await cloudBehindProxy(t, 7);
  const res = await call(joinedUrl('qlik-cloud-rest.ini', proxy.server.url, { limit: '3' }));
  t.equal(res.status, 200);
  t.same(
    res.json<{ id: string }[]>().map((i) => i.id),
    Array.from({ length: 7 }, (_, i) => `item-${i + 1}`),
  );
  t.equal(cloud.requestsTo('/api/v1/items').length, 3);
  t.equal(cloud.tokensIssued, 1, 'one token for every page');
});
