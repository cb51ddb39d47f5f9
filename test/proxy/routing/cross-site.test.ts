/**
 * Browsers refused on every route (routing, no sockets): a request a web page made the browser send
 * names its Origin, or says Sec-Fetch-Site: cross-site/same-site; only the user's own navigation
 * (none), tokenshim's own pages (same-origin) and a DSN's AllowedOrigins get through.
 * End to end, in Chromium and with curl: test/proxy/cross-site.e2e.test.ts.
 */
import t from 'tap';
import {
  routeDsnRequest,
  routeRequest,
  type RoutedRequest,
  type RoutingListener,
} from '../../../lib/proxy/routing/route-request.js';
import type { Route } from '../../../lib/proxy/routing/route.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { dedicated, main, tableOf } from './routing-fixture.js';

const crm = makeDsn({ name: 'crm', upstream: new URL('https://crm.example.com/v1') });
const app = makeDsn({
  name: 'app',
  upstream: new URL('https://app-api.example.com'),
  browserOrigins: ['https://qlik.example.com'],
});
const table = tableOf(crm, app);

function req(url: string, headers: Record<string, string>, method = 'GET'): RoutedRequest {
  return { url, method, rawHeaders: Object.entries({ host: '127.0.0.1:8790', ...headers }).flat() };
}

function outcome(route: Route): string {
  switch (route.kind) {
    case 'refuse':
      return `${route.error.status} ${route.error.code}`;
    case 'forward':
      return `forward${route.target.corsOrigin === undefined ? '' : ` cors=${route.target.corsOrigin}`}`;
    default:
      return route.kind;
  }
}

const REFUSED = '403 TOKENSHIM_CROSS_SITE';

const cases: [string, string, Record<string, string>, string, RoutingListener?, string?][] = [
  ['no browser headers (Qlik, curl, scripts)', '/crm/x', {}, 'forward'],
  ['the address bar: Sec-Fetch-Site none', '/crm/x', { 'sec-fetch-site': 'none' }, 'forward'],
  ['a page of tokenshim itself, GET', '/crm/x', { 'sec-fetch-site': 'same-origin' }, 'forward'],
  [
    'fetch() from another site',
    '/crm/x',
    { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    REFUSED,
  ],
  [
    'a form post from another site',
    '/crm/x',
    { origin: 'https://evil.example' },
    REFUSED,
    main,
    'POST',
  ],
  ['a no-cors <img> (no Origin)', '/crm/x', { 'sec-fetch-site': 'cross-site' }, REFUSED],
  [
    'same-site is another page too (localhost:3000)',
    '/crm/x',
    { 'sec-fetch-site': 'same-site' },
    REFUSED,
  ],
  ['Origin: null (sandboxed iframe, file://)', '/crm/x', { origin: 'null' }, REFUSED],
  [
    'an Origin naming tokenshim itself is still a page (all DSNs share that origin)',
    '/crm/x',
    { origin: 'http://127.0.0.1:8790', 'sec-fetch-site': 'same-origin' },
    REFUSED,
    main,
    'POST',
  ],
  [
    'the dedicated port',
    '/x',
    { host: '127.0.0.1:9001', origin: 'https://evil.example' },
    REFUSED,
    dedicated,
  ],
  [
    'the forward proxy (absolute form)',
    'http://crm.example.com/v1/x',
    { origin: 'https://evil.example' },
    REFUSED,
  ],
  ['an admin GET from a page', '/_tokenshim/status', { 'sec-fetch-site': 'cross-site' }, REFUSED],
  [
    'an admin POST from a page',
    '/_tokenshim/reload',
    { origin: 'https://evil.example' },
    REFUSED,
    main,
    'POST',
  ],
  [
    'the admin page opened in the address bar',
    '/_tokenshim/status',
    { 'sec-fetch-site': 'none' },
    'admin',
  ],
  [
    'AllowedOrigins: a listed origin gets through, noted for CORS',
    '/app/x',
    { origin: 'https://qlik.example.com', 'sec-fetch-site': 'cross-site' },
    'forward cors=https://qlik.example.com',
  ],
  [
    'AllowedOrigins: an unlisted origin does not',
    '/app/x',
    { origin: 'https://evil.example' },
    REFUSED,
  ],
  [
    'AllowedOrigins: a no-cors request names no origin, so no list admits it',
    '/app/x',
    { 'sec-fetch-site': 'cross-site' },
    REFUSED,
  ],
  [
    "AllowedOrigins: one DSN's list does not open another DSN",
    '/crm/x',
    { origin: 'https://qlik.example.com' },
    REFUSED,
  ],
  [
    'AllowedOrigins: a preflight from a listed origin is answered by tokenshim',
    '/app/x',
    { origin: 'https://qlik.example.com', 'access-control-request-method': 'PUT' },
    'preflight',
    main,
    'OPTIONS',
  ],
  [
    'a preflight from an unlisted origin is refused',
    '/app/x',
    { origin: 'https://evil.example', 'access-control-request-method': 'PUT' },
    REFUSED,
    main,
    'OPTIONS',
  ],
  [
    'an OPTIONS without a preflight header goes upstream',
    '/app/x',
    { origin: 'https://qlik.example.com' },
    'forward cors=https://qlik.example.com',
    main,
    'OPTIONS',
  ],
];

for (const [name, url, headers, want, listener, method] of cases) {
  t.test(name, async (t) => {
    t.equal(outcome(routeRequest(req(url, headers, method), listener ?? main, table)), want);
  });
}

t.test('decrypted CONNECT requests are judged by their DSN too', async (t) => {
  const page = req('/v1/x', { host: 'crm.example.com', origin: 'https://evil.example' });
  t.equal(outcome(routeDsnRequest(page, table, 'crm', '/v1/x')), REFUSED);
  const program = req('/v1/x', { host: 'crm.example.com' });
  t.equal(outcome(routeDsnRequest(program, table, 'crm', '/v1/x')), 'forward');
});

t.test('the refusal says which page, and which option would admit it', async (t) => {
  const route = routeRequest(req('/app/x', { origin: 'https://evil.example' }), main, table);
  t.match(route, {
    kind: 'refuse',
    error: {
      dsn: 'app',
      message:
        'tokenshim refused DSN "app" to a page of https://evil.example. If pages of https://evil.example should call it, add AllowedOrigins=https://evil.example to [app].',
    },
  });
  const img = routeRequest(
    req('/_tokenshim/status', { 'sec-fetch-site': 'cross-site' }),
    main,
    table,
  );
  t.match(img, {
    kind: 'refuse',
    error: {
      message:
        'tokenshim refused the admin route /_tokenshim/status to a page of another site (Sec-Fetch-Site: cross-site). Web pages cannot call it; call it from a program, or open the URL in the address bar.',
    },
  });
});

t.test('a preflight route carries what the page asked for', async (t) => {
  const route = routeRequest(
    req(
      '/app/x',
      {
        origin: 'https://qlik.example.com',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type, x-custom',
        'access-control-request-private-network': 'true',
      },
      'OPTIONS',
    ),
    main,
    table,
  );
  t.same(route, {
    kind: 'preflight',
    dsn: 'app',
    origin: 'https://qlik.example.com',
    requestMethod: 'PUT',
    requestHeaders: 'content-type, x-custom',
    privateNetwork: true,
  });
});
