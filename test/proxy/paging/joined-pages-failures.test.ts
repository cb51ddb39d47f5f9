import { request as httpRequest } from 'node:http';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { NeedsLoginError } from '../../../lib/errors.js';
import { capturingLogger } from '../../fixtures/imitations/sample-harness.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { startPagedApi, type PagedApi, type PagedApiOptions } from '../../fixtures/paged-api.js';
import type { StubProviderOptions } from '../../fixtures/stub-provider.js';
import { startProxy, type ProxyUnderTest } from '../proxy-harness.js';

interface Joined {
  api: PagedApi;
  proxy: ProxyUnderTest;
  gateway: string;
  log: () => string;
}

async function setUp(
  t: Test,
  opts: PagedApiOptions = {},
  stub: StubProviderOptions = {},
): Promise<Joined> {
  const api = await startPagedApi(t, { basePath: '/api', ...opts });
  const log = capturingLogger();
  const proxy = await startProxy(
    t,
    [makeDsn({ name: 'paged', method: 54, upstream: new URL(`${api.origin}/api`) })],
    { logger: log.logger, stubOptions: { paged: stub } },
  );
  return { api, proxy, gateway: `${proxy.server.url}/paged`, log: log.text };
}

const NEXT_URL = 'tokenshim.paging=next-url&tokenshim.records=value&tokenshim.next=@odata.nextLink';

/** The raw answer as a plain HTTP client reads it: the bytes, and whether the message ended properly. */
function rawAnswer(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false });
    let body = '';
    let status = 0;
    let settled = false;
    const done = (complete: boolean): void => {
      if (settled) return;
      settled = true;
      resolve({ status, body, complete });
    };
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => done(res.complete));
      res.on('error', () => done(false));
      res.on('aborted', () => done(false));
    });
    // a reset after the head arrived is part of the answer; before it, the request failed
    req.on('error', (e) => (status === 0 ? reject(e) : done(false)));
    req.end();
  });
}

/** the log lines that are JSON objects */
function logLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

t.test(
  'a failure on page 3, after the answer began: the array is left open, the connection cut, the log says which page and why',
  async (t) => {
    for (const failWith of [503, 'reset'] as const) {
      const j = await setUp(t, { failPage: 3, failWith });
      const res = await rawAnswer(`${j.gateway}/next-url?top=2&${NEXT_URL}`);
      t.equal(res.status, 200, `${failWith}: the answer had begun`);
      t.equal(res.complete, false, `${failWith}: the client can tell the message did not end`);
      t.match(res.body, /^\[\{"id":1,/, 'pages 1 and 2 arrived');
      t.notMatch(res.body, /\]$/, 'the array is never closed');
      t.throws(
        () => JSON.parse(res.body) as unknown,
        'no JSON reader takes it for a complete result',
      );
      await t.rejects(
        (await request(`${j.gateway}/next-url?top=2&${NEXT_URL}`)).body.text(),
        `${failWith}: undici sees the body fail`,
      );
      const line = logLines(j.log()).find((l) => l['page'] === 3);
      t.ok(line, `${failWith}: a log line names page 3`);
      t.match(line, {
        level: 40,
        dsn: 'paged',
        page: 3,
        path: '/api/next-url',
        msg: /page 3 failed after the answer began; it was cut short/,
      });
      t.match(
        String(line?.['why']),
        failWith === 503
          ? /the API answered 503: .*page 3 is not available/
          : /ended|reset|socket|closed|UND_ERR/i,
      );
    }
  },
);

t.test('NDJSON: a failure after the first lines cuts the connection too', async (t) => {
  const j = await setUp(t, { failPage: 2, failWith: 500 });
  const res = await rawAnswer(`${j.gateway}/next-url?top=3&${NEXT_URL}`, {
    accept: 'application/x-ndjson',
  });
  t.equal(res.complete, false);
  t.equal(
    res.body.split('\n').filter(Boolean).length,
    3,
    'page 1 arrived, and nothing says it is all',
  );
});

t.test('a failure on page 1: problem+json naming the page, with what the API said', async (t) => {
  const j = await setUp(t, { failPage: 1, failWith: 503 });
  const res = await request(`${j.gateway}/next-url?top=2&${NEXT_URL}`);
  t.equal(res.statusCode, 503, "the API's status");
  t.equal(res.headers['content-type'], 'application/problem+json');
  t.match(await res.body.json(), {
    code: 'TOKENSHIM_PAGE_FAILED',
    dsn: 'paged',
    page: 1,
    detail:
      /^DSN "paged": page 1 of the joined answer failed: the API answered 503: \{"error":\{"code":"\[redacted\]","message":"page 1 is not available"\}\}/,
  });
  t.match(j.log(), /page 1 failed before the answer began/);
});

t.test(
  'page 1 is not the shape the settings describe: the problem says what it is instead',
  async (t) => {
    const j = await setUp(t);
    const wrongPath = await request(
      `${j.gateway}/next-url?tokenshim.paging=next-url&tokenshim.records=items&tokenshim.next=@odata.nextLink`,
    );
    t.equal(wrongPath.statusCode, 502);
    t.match(await wrongPath.body.json(), {
      code: 'TOKENSHIM_PAGE_FAILED',
      detail:
        /page 1 of the joined answer failed: it has no "items" \(tokenshim.records\); its top-level keys are @odata.context, value, @odata.nextLink/,
    });
    const notArray = await request(
      `${j.gateway}/cursor?tokenshim.paging=cursor&tokenshim.next=nextPageToken&tokenshim.param=pageToken`,
    );
    t.match(await notArray.body.json(), {
      detail:
        /it is a JSON object, not an array: set tokenshim.records to the key of its records array/,
    });
    const nested = await request(
      `${j.gateway}/offset?tokenshim.paging=offset&tokenshim.records=values.0&tokenshim.param=startAt`,
    );
    t.equal(nested.statusCode, 502);
    await nested.body.dump();
  },
);

t.test(
  'joined-pages parameters that cannot be used: 400 naming each, and nothing sent upstream',
  async (t) => {
    const j = await setUp(t);
    const cases: [string, RegExp, string?][] = [
      [
        'tokenshim.paging=cursor&tokenshim.records=items',
        /tokenshim.paging=cursor needs tokenshim.next .*; tokenshim.paging=cursor needs tokenshim.param/,
      ],
      [
        'tokenshim.paging=link&tokenshim.recrods=x',
        /tokenshim.recrods is not a tokenshim parameter \(did you mean tokenshim.records\?\)/,
      ],
      [
        'tokenshim.paging=scroll',
        /tokenshim.paging=scroll is not a paging style: use next-url, link, cursor, offset, page or none/,
      ],
      [
        'tokenshim.paging=offset&tokenshim.param=startAt&tokenshim.size=ten',
        /tokenshim.size=ten is not a whole number from 1 up/,
      ],
      [
        'tokenshim.paging=link&tokenshim.max-pages=0',
        /tokenshim.max-pages=0 is not a whole number from 1 to 100000/,
      ],
      ['tokenshim.records=value', /tokenshim.paging is missing: say how the API pages/],
      ['tokenshim.paging=link&tokenshim.paging=link', /tokenshim.paging is given twice/],
      [
        'tokenshim.paging=link',
        /joined pages are fetched with GET, and this request is a POST/,
        'POST',
      ],
    ];
    for (const [query, message, method] of cases) {
      const res = await request(`${j.gateway}/link?${query}`, {
        method: (method ?? 'GET') as 'GET',
      });
      t.equal(res.statusCode, 400, query);
      t.match(
        await res.body.json(),
        { code: 'TOKENSHIM_PAGING_INVALID', dsn: 'paged', detail: message },
        query,
      );
    }
    t.equal(j.api.requests.length, 0, 'the API saw none of them');
  },
);

t.test(
  'a walk never ends quietly: more pages than tokenshim.max-pages, a loop, a next link elsewhere',
  async (t) => {
    const j = await setUp(t);
    const capped = await rawAnswer(
      `${j.gateway}/link?per_page=2&tokenshim.paging=link&tokenshim.max-pages=2`,
    );
    t.equal(capped.complete, false, 'max-pages reached with pages left: cut, not a short array');
    t.match(
      j.log(),
      /"page":2.*the API has more than 2 pages \(tokenshim.max-pages\); raise it to fetch them all/,
    );
    t.equal(j.api.requests.length, 2);

    const loop = await setUp(t);
    loop.api.server.removeAllListeners('request');
    loop.api.server.on('request', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ value: [1], next: `${loop.api.origin}/api/same` }));
    });
    const looped = await rawAnswer(
      `${loop.gateway}/same?tokenshim.paging=next-url&tokenshim.records=value&tokenshim.next=next`,
    );
    t.equal(looped.complete, false);
    t.match(loop.log(), /its next link names an earlier page again: the API would loop/);

    const away = await setUp(t);
    away.api.server.removeAllListeners('request');
    away.api.server.on('request', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ value: [1], next: 'https://attacker.example/collect' }));
    });
    const elsewhere = await rawAnswer(
      `${away.gateway}/x?tokenshim.paging=next-url&tokenshim.records=value&tokenshim.next=next`,
    );
    t.equal(elsewhere.complete, false);
    t.match(
      away.log(),
      /leads to https:\/\/attacker.example, which is neither the DSN's HostName nor in its AllowedHosts/,
    );
  },
);

t.test(
  'the token engine fails between pages: cut, and the log names the page and the cause',
  async (t) => {
    const j = await setUp(t);
    const stub = j.proxy.stub('paged');
    let served = 0;
    j.api.server.prependListener('request', () => {
      if (++served === 1) stub.failWith(new NeedsLoginError('paged', 'invalid_grant'));
    });
    const res = await rawAnswer(`${j.gateway}/link?per_page=3&tokenshim.paging=link`);
    t.equal(res.complete, false);
    const line = logLines(j.log()).find((l) => l['page'] === 2);
    t.match(line, { page: 2, why: /DSN "paged" needs a new login/ });
    t.equal(j.api.requests.length, 1, 'page 2 was never sent without a valid token');
  },
);

t.test('no secret in the problem or the log, even when the API echoes the token', async (t) => {
  const j = await setUp(t, {}, { placement: 'query' });
  j.api.server.removeAllListeners('request');
  j.api.server.on('request', (req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `bad request ${req.url}` }));
  });
  const res = await request(`${j.gateway}/x?tokenshim.paging=link`);
  const token = j.proxy.stub('paged').currentToken;
  const text = await res.body.text();
  t.match(text, /access_token=\[redacted\]/);
  t.notMatch(text, token);
  t.notMatch(j.log(), token);
});

t.test('the client leaves mid-walk: no further page is requested', async (t) => {
  const j = await setUp(t, { items: 50 });
  const slow = j.api.server.listeners('request')[0] as (...a: unknown[]) => void;
  j.api.server.removeAllListeners('request');
  j.api.server.on('request', (req, res) => setTimeout(() => slow(req, res), 30));
  await new Promise<void>((resolve) => {
    const req = httpRequest(`${j.gateway}/link?per_page=1&tokenshim.paging=link`, { agent: false });
    req.on('response', (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.end();
  });
  await new Promise((r) => setTimeout(r, 200));
  t.ok(
    j.api.requests.length <= 3,
    `the walk stopped (${j.api.requests.length} of 50 pages requested)`,
  );
});
