import t, { type Test } from 'tap';
import { request } from 'undici';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { startPagedApi, type PagedApi, type PagedApiOptions } from '../../fixtures/paged-api.js';
import { viaProxy } from '../client-requests.js';
import { startProxy, type ProxyUnderTest } from '../proxy-harness.js';

interface Joined {
  api: PagedApi;
  proxy: ProxyUnderTest;
  /** the gateway URL of the DSN */
  gateway: string;
}

async function setUp(
  t: Test,
  opts: PagedApiOptions = {},
  dsn: Parameters<typeof makeDsn>[0] = {},
): Promise<Joined> {
  const api = await startPagedApi(t, { basePath: '/api', ...opts });
  const proxy = await startProxy(t, [
    makeDsn({ name: 'paged', method: 54, upstream: new URL(`${api.origin}/api`), ...dsn }),
  ]);
  return { api, proxy, gateway: `${proxy.server.url}/paged` };
}

/** the items as the joined answer should carry them: `self` rewritten to the gateway */
function expectedItems(j: Joined): unknown[] {
  return j.api.items.map((i) => ({ ...i, self: `${j.gateway}/items/${i.id}` }));
}

async function joined(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string | undefined; text: string }> {
  const res = await request(url, { headers });
  return {
    status: res.statusCode,
    type: res.headers['content-type'] as string | undefined,
    text: await res.body.text(),
  };
}

const STYLES: [string, string, (api: PagedApi) => string[]][] = [
  [
    'next-url (Graph @odata.nextLink)',
    '/next-url?top=3&tokenshim.paging=next-url&tokenshim.records=value&tokenshim.next=@odata.nextLink',
    () => ['/api/next-url?top=3', '/api/next-url?top=3&skip=3', '/api/next-url?top=3&skip=6'],
  ],
  [
    'link (GitHub Link header, top-level arrays)',
    '/link?per_page=3&tokenshim.paging=link',
    () => ['/api/link?per_page=3', '/api/link?per_page=3&page=2', '/api/link?per_page=3&page=3'],
  ],
  [
    'cursor (Google nextPageToken sent back as pageToken)',
    '/cursor?pageSize=3&tokenshim.paging=cursor&tokenshim.records=items&tokenshim.next=nextPageToken&tokenshim.param=pageToken',
    () => [
      '/api/cursor?pageSize=3',
      '/api/cursor?pageSize=3&pageToken=Mw',
      '/api/cursor?pageSize=3&pageToken=Ng',
    ],
  ],
  [
    'offset (Jira startAt, advanced by tokenshim.size)',
    '/offset?maxResults=3&tokenshim.paging=offset&tokenshim.records=values&tokenshim.param=startAt&tokenshim.size=3',
    () => [
      '/api/offset?maxResults=3&startAt=0',
      '/api/offset?maxResults=3&startAt=3',
      '/api/offset?maxResults=3&startAt=6',
    ],
  ],
  [
    'offset without a size: advanced by what each page held, until an empty page',
    '/offset?maxResults=3&tokenshim.paging=offset&tokenshim.records=values&tokenshim.param=startAt',
    () => [
      '/api/offset?maxResults=3&startAt=0',
      '/api/offset?maxResults=3&startAt=3',
      '/api/offset?maxResults=3&startAt=6',
      '/api/offset?maxResults=3&startAt=7',
    ],
  ],
  [
    'page (Zoho page numbers; 204 past the end)',
    '/page?per_page=3&tokenshim.paging=page&tokenshim.records=data&tokenshim.param=page',
    () => [
      '/api/page?per_page=3&page=1',
      '/api/page?per_page=3&page=2',
      '/api/page?per_page=3&page=3',
      '/api/page?per_page=3&page=4',
    ],
  ],
];

t.test('every paging style: one JSON array of all records, in order', async (t) => {
  for (const [name, path, requests] of STYLES) {
    const j = await setUp(t);
    const res = await joined(`${j.gateway}${path}`);
    t.equal(res.status, 200, name);
    t.equal(res.type, 'application/json; charset=utf-8');
    t.same(
      JSON.parse(res.text),
      expectedItems(j),
      `${name}: every record, self links on the gateway`,
    );
    const route = path.slice(0, path.indexOf('?'));
    t.same(j.api.requestsTo(route), requests(j.api), `${name}: the pages requested`);
    t.notOk(
      j.api.requests.some((r) => /tokenshim/i.test(r.url)),
      `${name}: the upstream never saw a tokenshim.* parameter`,
    );
  }
});

t.test('every page carries a fresh credential from the token engine', async (t) => {
  const j = await setUp(t);
  const stub = j.proxy.stub('paged');
  await joined(`${j.gateway}/link?per_page=2&tokenshim.paging=link`);
  t.equal(j.api.requests.length, 4);
  t.equal(stub.credentialCalls, 4, 'credential() asked once per page');
  for (const r of j.api.requests) t.equal(r.headers.authorization, `Bearer ${stub.currentToken}`);
});

t.test('a token rejected mid-way (401 on page 2): refreshed, and that page replayed', async (t) => {
  let accepted = '';
  const j = await setUp(t, { token: () => accepted });
  const stub = j.proxy.stub('paged');
  accepted = stub.currentToken;
  let served = 0;
  j.api.server.prependListener('request', () => {
    // after page 1, the upstream revokes token 1 and accepts only the next one
    if (++served === 2) accepted = `${stub.tokenPrefix}-2`;
  });
  const res = await joined(
    `${j.gateway}/next-url?top=3&tokenshim.paging=next-url&tokenshim.records=value&tokenshim.next=@odata.nextLink`,
  );
  t.equal(res.status, 200);
  t.same(JSON.parse(res.text), expectedItems(j));
  t.same(
    j.api.requests.map((r) => [r.url, r.headers.authorization]),
    [
      ['/api/next-url?top=3', `Bearer ${stub.tokenPrefix}-1`],
      ['/api/next-url?top=3&skip=3', `Bearer ${stub.tokenPrefix}-1`],
      ['/api/next-url?top=3&skip=3', `Bearer ${stub.tokenPrefix}-2`],
      ['/api/next-url?top=3&skip=6', `Bearer ${stub.tokenPrefix}-2`],
    ],
  );
  t.equal(stub.rejections, 1);
});

t.test('gzip, deflate and br pages are decoded', async (t) => {
  for (const encoding of ['gzip', 'deflate', 'br'] as const) {
    const j = await setUp(t, { encoding });
    const res = await joined(
      `${j.gateway}/next-url?top=2&tokenshim.paging=next-url&tokenshim.records=value&tokenshim.next=@odata.nextLink`,
    );
    t.same(JSON.parse(res.text), expectedItems(j), encoding);
    t.equal(
      j.api.requests[0]!.headers['accept-encoding'],
      'gzip, deflate, br',
      'only codings tokenshim decodes are asked for',
    );
  }
});

t.test('next links with escaped slashes, and next links cut by a chunk boundary', async (t) => {
  const escaped = await setUp(t, { escapeSlashes: true });
  const a = await joined(
    `${escaped.gateway}/next-url?top=3&tokenshim.paging=next-url&tokenshim.records=value&tokenshim.next=@odata.nextLink`,
  );
  t.same(JSON.parse(a.text), expectedItems(escaped), 'https:\\/\\/ links followed');
  t.equal(escaped.api.requests.length, 3);
  const split = await setUp(t, { splitInsideNextLink: true, escapeSlashes: true });
  const b = await joined(
    `${split.gateway}/next-url?top=3&tokenshim.paging=next-url&tokenshim.records=value&tokenshim.next=@odata.nextLink`,
  );
  t.same(JSON.parse(b.text), expectedItems(split), 'a next link in two pieces');
  t.equal(split.api.requests.length, 3);
});

t.test('Accept: application/x-ndjson: one record per line', async (t) => {
  const j = await setUp(t);
  const res = await joined(
    `${j.gateway}/cursor?pageSize=3&tokenshim.paging=cursor&tokenshim.records=items&tokenshim.next=nextPageToken&tokenshim.param=pageToken`,
    { accept: 'application/x-ndjson' },
  );
  t.equal(res.type, 'application/x-ndjson');
  const lines = res.text.split('\n');
  t.equal(lines.pop(), '', 'every line ends with a newline');
  t.same(
    lines.map((l) => JSON.parse(l) as unknown),
    expectedItems(j),
  );
  t.equal(j.api.requests[0]!.headers.accept, 'application/json', 'the API is asked for JSON');
});

t.test('an empty first page is an empty array, not an error', async (t) => {
  const j = await setUp(t, { items: 0 });
  const res = await joined(
    `${j.gateway}/next-url?tokenshim.paging=next-url&tokenshim.records=value&tokenshim.next=@odata.nextLink`,
  );
  t.equal(res.status, 200);
  t.equal(res.text, '[]');
  const nd = await joined(
    `${j.gateway}/page?tokenshim.paging=page&tokenshim.records=data&tokenshim.param=page`,
    { accept: 'application/x-ndjson' },
  );
  t.equal(nd.status, 200);
  t.equal(nd.text, '', 'NDJSON: no lines');
});

t.test('the DSN default (Paging) joins pages for a tool that cannot add parameters', async (t) => {
  const j = await setUp(t, {}, { paging: { paging: 'link' } });
  const res = await joined(`${j.gateway}/link?per_page=3`);
  t.same(JSON.parse(res.text), expectedItems(j));
  const one = await joined(`${j.gateway}/link?per_page=3&tokenshim.paging=none`);
  t.equal(JSON.parse(one.text).length, 3, 'tokenshim.paging=none: the page as the API sent it');
  const wider = await setUp(
    t,
    {},
    { paging: { paging: 'cursor', records: 'items', next: 'nextPageToken', param: 'pageToken' } },
  );
  const merged = await joined(
    `${wider.gateway}/next-url?top=4&tokenshim.paging=next-url&tokenshim.records=value&tokenshim.next=@odata.nextLink`,
  );
  t.same(JSON.parse(merged.text), expectedItems(wider), 'request parameters win key by key');
  const post = await request(`${j.gateway}/link?per_page=3`, { method: 'POST', body: '{}' });
  t.equal(post.statusCode, 200, 'a POST through the DSN is forwarded as usual');
  t.equal(((await post.body.json()) as unknown[]).length, 3);
});

t.test('a next URL on an AllowedHosts origin is followed, with the credential', async (t) => {
  const other = await startPagedApi(t, { basePath: '/api' });
  const api = await startPagedApi(t, { basePath: '/api' });
  const proxy = await startProxy(t, [
    makeDsn({
      name: 'paged',
      method: 54,
      upstream: new URL(`${api.origin}/api`),
      credentialOrigins: [api.origin, other.origin],
    }),
  ]);
  // the first page points at the other origin's second page
  api.server.removeAllListeners('request');
  api.server.on('request', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ value: [{ id: 0 }], next: `${other.origin}/api/next-url?top=3&skip=3` }),
    );
  });
  const res = await joined(
    `${proxy.server.url}/paged/start?tokenshim.paging=next-url&tokenshim.records=value&tokenshim.next=next`,
  );
  t.equal(res.status, 200);
  // the other origin's page names its next one under @odata.nextLink, not `next`: the walk ends there
  t.same(
    JSON.parse(res.text).map((i: { id: number }) => i.id),
    [0, 4, 5, 6],
  );
  t.equal(other.requests[0]!.headers.authorization, `Bearer ${proxy.stub('paged').currentToken}`);
  t.equal(other.requests[0]!.headers.host, new URL(other.origin).host);
});

t.test('the dedicated port and the forward proxy join pages too', async (t) => {
  const api = await startPagedApi(t, { basePath: '/api' });
  const probe = await startProxy(t, []);
  const port = probe.server.port;
  await probe.server.close({ drainMs: 0 });
  const proxy = await startProxy(t, [
    makeDsn({
      name: 'paged',
      method: 54,
      upstream: new URL(`${api.origin}/api`),
      listenPort: port,
    }),
  ]);
  const dedicated = await joined(`http://127.0.0.1:${port}/link?per_page=3&tokenshim.paging=link`);
  t.same(
    JSON.parse(dedicated.text),
    api.items.map((i) => ({ ...i, self: `http://127.0.0.1:${port}/items/${i.id}` })),
    'records linked to the dedicated port',
  );
  const forward = await viaProxy(
    proxy.server.port,
    `${api.origin}/api/link?per_page=3&tokenshim.paging=link`,
  );
  t.equal(forward.status, 200);
  t.same(JSON.parse(forward.body), api.items, 'the forward proxy leaves record URLs alone');
  t.notOk(
    api.requests.some((r) => /tokenshim/i.test(r.url)),
    'no route lets a tokenshim.* parameter through',
  );
});
