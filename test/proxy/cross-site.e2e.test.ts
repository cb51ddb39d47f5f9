/**
 * A web page must not be able to use a DSN's credential: what the adversarial review did in
 * headless Chromium (read data cross-site, post a form, fire a no-cors request, trigger a reload,
 * go through tokenshim as the browser's proxy), done again here against a real proxy and upstream;
 * and the same refusals with curl. Pages are served from `evil.test` and `qlik.test`, which
 * Chromium resolves to 127.0.0.1 (--host-resolver-rules): other sites, as the internet would be.
 */
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import type { BrowserContext, Page } from 'playwright-core';
import type { DsnConfig } from '../../lib/config/dsn.js';
import { pageFetch, pageHost, pagePostsForm } from '../fixtures/attack-pages.js';
import { launchChromium, NEEDS_CHROMIUM } from '../fixtures/chromium.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startUpstream, type Upstream } from '../fixtures/upstream.js';
import { curl } from './client-requests.js';
import { startProxy, type ProxyUnderTest } from './proxy-harness.js';

/** an API that, like many, answers every origin: `Access-Control-Allow-Origin: *` */
async function permissiveUpstream(t: Test): Promise<Upstream> {
  return startUpstream(t, {
    handler: (req, res) => {
      if (req.url?.endsWith('.html')) {
        // a document someone else wrote (an uploaded attachment): its script uses the gateway
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><script>fetch("/crm/customers")</script>an attachment');
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'access-control-allow-origin': '*',
        'access-control-allow-headers': '*',
        'access-control-allow-methods': '*',
      });
      res.end(JSON.stringify({ secret: 'customer data', method: req.method }));
    },
  });
}

/** a port nothing listens on, for a DSN's ListenPort */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

interface Scene {
  readonly up: Upstream;
  readonly proxy: ProxyUnderTest;
  readonly reloads: () => number;
  readonly browser: BrowserContext;
  /** `http://127.0.0.1:P`, the ListenPort of the DSN `ded` (no AllowedOrigins) */
  readonly dedicated: string;
  /** a page of `site` (evil.test, qlik.test) */
  open(site: string): Promise<Page>;
}

async function scene(
  t: Test,
  extraArgs: (proxyPort: number) => string[] = () => [],
): Promise<Scene> {
  const up = await permissiveUpstream(t);
  const pagePort = await pageHost(t);
  const dedicatedPort = await freePort();
  const dsns: DsnConfig[] = [
    makeDsn({
      name: 'ded',
      method: 54,
      upstream: new URL(`${up.origin}/ded`),
      listenPort: dedicatedPort,
    }),
    makeDsn({ name: 'crm', method: 54, upstream: new URL(`${up.origin}/v1`) }),
    makeDsn({
      name: 'bi',
      method: 54,
      upstream: new URL(`${up.origin}/bi`),
      browserOrigins: [`http://qlik.test:${pagePort}`],
    }),
  ];
  let reloads = 0;
  const proxy = await startProxy(t, dsns, {
    reloadConfig: () => {
      reloads++;
      return Promise.resolve(dsns);
    },
  });
  const browser = await launchChromium(t, [
    '--host-resolver-rules=MAP evil.test 127.0.0.1, MAP qlik.test 127.0.0.1',
    ...extraArgs(proxy.server.port),
  ]);
  return {
    up,
    proxy,
    reloads: () => reloads,
    browser,
    dedicated: `http://127.0.0.1:${dedicatedPort}`,
    async open(site) {
      const page = await browser.newPage();
      await page.goto(`http://${site}:${pagePort}/`);
      return page;
    },
  };
}

t.test(
  'Chromium: a page of another site cannot read, post, fire no-cors or reload',
  { skip: NEEDS_CHROMIUM },
  async (t) => {
    const s = await scene(t);
    const page = await s.open('evil.test');
    const gateway = s.proxy.server.url;

    const read = await pageFetch(page, `${gateway}/crm/customers`);
    t.match(read, /^blocked: TypeError/, 'fetch() cannot read the data');

    const noCors = await pageFetch(page, `${gateway}/crm/customers`, { mode: 'no-cors' });
    t.match(noCors, /^read 0: $/, 'a no-cors request gets the usual opaque answer');

    const status = await pagePostsForm(page, `${gateway}/crm/payments`);
    t.equal(status, 403, 'the form post is refused');

    const reloadPage = await s.open('evil.test');
    const reloadStatus = await pagePostsForm(reloadPage, `${gateway}/_tokenshim/reload`);
    t.equal(reloadStatus, 403, 'a cross-site form post to the reload route is refused');
    t.equal(s.reloads(), 0, 'no reload happened');

    t.same(
      s.up.requests.map((r) => `${r.method} ${r.url}`),
      [],
      'nothing reached the upstream, with or without a credential',
    );
  },
);

t.test(
  "Chromium: a DSN's dedicated port and the admin routes refuse a page of another site too",
  { skip: NEEDS_CHROMIUM },
  async (t) => {
    const s = await scene(t);
    const page = await s.open('evil.test');
    const gateway = s.proxy.server.url;

    t.match(await pageFetch(page, `${s.dedicated}/customers`), /^blocked: TypeError/);
    t.match(await pageFetch(page, `${s.dedicated}/customers`, { mode: 'no-cors' }), /^read 0: $/);
    t.equal(await pagePostsForm(page, `${s.dedicated}/payments`), 403, 'dedicated port: form');

    t.match(
      await pageFetch(page, `${gateway}/_tokenshim/status`),
      /^blocked: TypeError/,
      'the status page cannot be read',
    );
    const tokenPage = await s.open('evil.test');
    t.equal(
      await pagePostsForm(tokenPage, `${gateway}/_tokenshim/token/crm`),
      403,
      'a form post to the token route is refused',
    );
    // the browser asks the refusal's origin for its favicon itself (Sec-Fetch-Site: same-origin)
    const sent = () =>
      s.up.requests.filter((r) => r.url !== '/ded/favicon.ico').map((r) => `${r.method} ${r.url}`);
    t.same(sent(), [], 'nothing the page asked for reached the upstream');

    const own = await s.browser.newPage();
    const typed = await own.goto(`${s.dedicated}/customers`);
    t.equal(typed?.status(), 200, 'the user typing the dedicated URL still gets the data');
    t.same(sent(), ['GET /ded/customers']);
  },
);

t.test(
  "Chromium: an HTML answer opened through the gateway runs no script in tokenshim's origin",
  { skip: NEEDS_CHROMIUM },
  async (t) => {
    const s = await scene(t);
    const page = await s.browser.newPage();
    const shown = await page.goto(`${s.proxy.server.url}/crm/files/note.html`, {
      waitUntil: 'networkidle',
    });
    t.equal(shown?.status(), 200, 'the user sees the document');
    t.equal(shown?.headers()['content-security-policy'], 'sandbox');
    t.same(
      s.up.requests.filter((r) => !r.url.endsWith('favicon.ico')).map((r) => r.url),
      ['/v1/files/note.html'],
      "its script never called another DSN's route (same-origin, it would have gone out)",
    );
  },
);

t.test(
  "Chromium: a page of a DSN's AllowedOrigins reads its data, preflight answered by tokenshim",
  { skip: NEEDS_CHROMIUM },
  async (t) => {
    const s = await scene(t);
    const page = await s.open('qlik.test');
    const gateway = s.proxy.server.url;

    t.equal(
      await pageFetch(page, `${gateway}/bi/sales`),
      'read 200: {"secret":"customer data","method":"GET"}',
      'the listed origin reads the answer',
    );
    t.equal(
      await pageFetch(page, `${gateway}/bi/sales/1`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-request-id': 'r1' },
        body: '{}',
      }),
      'read 200: {"secret":"customer data","method":"PUT"}',
      'a request that needs a preflight works',
    );
    t.same(
      s.up.requests.map((r) => `${r.method} ${r.url} ${r.headers.authorization ?? '-'}`),
      [
        `GET /bi/sales Bearer ${s.proxy.stub('bi').currentToken}`,
        `PUT /bi/sales/1 Bearer ${s.proxy.stub('bi').currentToken}`,
      ],
      'the preflight (OPTIONS) never went upstream; the requests carried the credential',
    );
    t.match(
      await pageFetch(page, `${gateway}/crm/customers`),
      /^blocked: TypeError/,
      "one DSN's AllowedOrigins opens no other DSN",
    );
    t.equal(s.up.requests.length, 2);
  },
);

t.test(
  'Chromium with tokenshim as its HTTP proxy: a page of another site cannot use the forward proxy',
  { skip: NEEDS_CHROMIUM },
  async (t) => {
    const s = await scene(t, (port) => [
      `--proxy-server=http://127.0.0.1:${port}`,
      // the page's own site directly; the API (on 127.0.0.1) through tokenshim
      '--proxy-bypass-list=evil.test;<-loopback>',
    ]);
    const page = await s.open('evil.test');
    const api = `${s.up.origin}/v1/customers`;
    t.match(await pageFetch(page, api), /^blocked: TypeError/, 'the page cannot read the API');
    const direct = await s.browser.newPage();
    const visit = await direct.goto(api);
    t.equal(visit?.status(), 200, 'the user typing the URL still gets the data');
    t.same(
      s.up.requests.filter((r) => r.url !== '/favicon.ico').map((r) => `${r.method} ${r.url}`),
      ['GET /v1/customers'],
      "only the user's own navigation went upstream",
    );
  },
);

t.test('curl: the same refusals, and CORS headers only for AllowedOrigins', async (t) => {
  const up = await permissiveUpstream(t);
  const { server } = await startProxy(t, [
    makeDsn({ name: 'crm', method: 54, upstream: new URL(up.origin) }),
    makeDsn({
      name: 'bi',
      method: 54,
      upstream: new URL(up.origin),
      browserOrigins: ['https://qlik.example.com'],
    }),
  ]);
  const url = `${server.url}/crm/x`;

  const page = await curl(['-s', '-i', '-H', 'Origin: https://evil.example', url]);
  t.match(page.body, /^HTTP\/1\.1 403 /);
  t.match(page.body, /content-type: application\/problem\+json/i);
  t.match(page.body, /"code":"TOKENSHIM_CROSS_SITE"/);
  t.notMatch(page.body, /access-control-allow-origin/i, 'no CORS header on the refusal');

  const img = await curl(['-s', '-o', '/dev/null', '-H', 'Sec-Fetch-Site: cross-site', url]);
  t.equal(img.status, 403, 'Sec-Fetch-Site: cross-site without Origin');
  const sameSite = await curl(['-s', '-o', '/dev/null', '-H', 'Sec-Fetch-Site: same-site', url]);
  t.equal(sameSite.status, 403, 'Sec-Fetch-Site: same-site');
  t.equal(up.requests.length, 0, 'none of them reached the upstream');

  const typed = await curl(['-s', '-i', '-H', 'Sec-Fetch-Site: none', url]);
  t.match(typed.body, /^HTTP\/1\.1 200 /, 'the address bar (Sec-Fetch-Site: none) is answered');
  t.notMatch(typed.body, /access-control-/i, "the upstream's Access-Control-* are dropped");

  const plain = await curl(['-s', '-i', url]);
  t.match(plain.body, /^HTTP\/1\.1 200 /, 'a client that is no browser is answered');
  t.notMatch(plain.body, /access-control-/i);
  t.match(plain.body, /content-security-policy: sandbox\r\n/i, 'no script runs in a document');

  const listed = await curl([
    '-s',
    '-i',
    '-H',
    'Origin: https://qlik.example.com',
    `${server.url}/bi/x`,
  ]);
  t.match(listed.body, /^HTTP\/1\.1 200 /);
  t.match(listed.body, /access-control-allow-origin: https:\/\/qlik\.example\.com\r\n/i);
  t.notMatch(listed.body, /access-control-allow-origin: \*/i, "the upstream's * is not passed on");
  t.match(listed.body, /vary: Origin/i);

  const before = up.requests.length;
  const preflight = await curl([
    '-s',
    '-i',
    '-X',
    'OPTIONS',
    '-H',
    'Origin: https://qlik.example.com',
    '-H',
    'Access-Control-Request-Method: DELETE',
    '-H',
    'Access-Control-Request-Headers: content-type',
    '-H',
    'Access-Control-Request-Private-Network: true',
    `${server.url}/bi/x`,
  ]);
  t.match(preflight.body, /^HTTP\/1\.1 204 /);
  t.match(preflight.body, /access-control-allow-methods: DELETE\r\n/i);
  t.match(preflight.body, /access-control-allow-headers: content-type\r\n/i);
  t.match(preflight.body, /access-control-allow-private-network: true\r\n/i);
  t.match(preflight.body, /access-control-max-age: 600\r\n/i);
  t.equal(up.requests.length, before, 'tokenshim answered the preflight itself');

  const trace = await curl([
    '-s',
    '-i',
    '-X',
    'OPTIONS',
    '-H',
    'Origin: https://qlik.example.com',
    '-H',
    'Access-Control-Request-Method: TRACE',
    `${server.url}/bi/x`,
  ]);
  t.notMatch(trace.body, /access-control-allow-methods/i, 'TRACE is never allowed to a page');
});

t.test(
  'a joined-pages answer to an AllowedOrigins page carries the CORS headers too',
  async (t) => {
    const up = await startUpstream(t, {
      handler: (_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/json',
          'access-control-allow-origin': '*',
        });
        res.end('{"value":[1,2],"next":null}');
      },
    });
    const { server } = await startProxy(t, [
      makeDsn({
        name: 'bi',
        upstream: new URL(up.origin),
        browserOrigins: ['https://qlik.example.com'],
      }),
    ]);
    const joined = await curl([
      '-s',
      '-i',
      '-H',
      'Origin: https://qlik.example.com',
      `${server.url}/bi/items?tokenshim.paging=next-url&tokenshim.records=value&tokenshim.next=next`,
    ]);
    t.match(joined.body, /^HTTP\/1\.1 200 /);
    t.match(joined.body, /access-control-allow-origin: https:\/\/qlik\.example\.com\r\n/i);
    t.match(joined.body, /\r\n\r\n\[1,2\]$/);
  },
);
