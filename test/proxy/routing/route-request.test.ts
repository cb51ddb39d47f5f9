import t from 'tap';
import { TokenshimError } from '../../../lib/errors.js';
import type { Route } from '../../../lib/proxy/routing/route.js';
import {
  routeAdmin,
  routeDsnRequest,
  routeRequest,
  type RoutedRequest,
  type RoutingListener,
} from '../../../lib/proxy/routing/route-request.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { dedicated, main, tableOf } from './routing-fixture.js';

const crm = makeDsn({ name: 'crm', upstream: new URL('https://crm.example.com/rest/v1/') });
const spaced = makeDsn({ name: 'Marketo Prod', upstream: new URL('http://127.0.0.1:9000') });
const files = makeDsn({
  name: 'files',
  upstream: new URL('https://api.example.com'),
  credentialOrigins: ['https://api.example.com', 'https://cdn.example.com'],
});
// config refuses a DSN without HostName; routing still refuses one clearly if it ever meets it
const bare = { ...makeDsn({ name: 'bare' }), upstream: undefined };
const table = tableOf(crm, spaced, files, bare);

function req(
  url: string,
  headers: Record<string, string> = { host: '127.0.0.1:8790' },
): RoutedRequest {
  return { url, rawHeaders: Object.entries(headers).flat() };
}

/** The parts of a Route a person checks, in one comparable object. */
function summary(route: Route): Record<string, unknown> {
  switch (route.kind) {
    case 'forward': {
      const { binding, ...target } = route.target;
      return { kind: 'forward', dsn: binding.dsn.name, ...target };
    }
    case 'admin':
      return { kind: 'admin', path: route.path };
    case 'refuse':
      return { kind: 'refuse', code: route.error.code, status: route.error.status };
    case 'preflight':
      return { ...route };
  }
}

const cases: {
  name: string;
  url: string;
  headers?: Record<string, string>;
  listener?: RoutingListener;
  want: Record<string, unknown>;
}[] = [
  {
    name: "gateway: the first segment names the DSN; the rest joins HostName's path, query untouched",
    url: '/crm/leads.json?filterValues=1%2C2',
    want: {
      kind: 'forward',
      dsn: 'crm',
      origin: 'https://crm.example.com',
      host: 'crm.example.com',
      path: '/rest/v1/leads.json?filterValues=1%2C2',
      upstreamBasePath: '/rest/v1',
      publicOrigin: 'http://127.0.0.1:8790',
      publicBasePath: '/crm',
    },
  },
  {
    name: 'gateway: the bare DSN path is the base path',
    url: '/crm',
    want: { kind: 'forward', dsn: 'crm', path: '/rest/v1' },
  },
  {
    name: 'gateway: a query without a path goes to the base path',
    url: '/crm?x=1',
    want: { kind: 'forward', dsn: 'crm', path: '/rest/v1?x=1' },
  },
  {
    name: 'gateway: names ignore case and may be percent-encoded; the public base path stays as sent',
    url: '/marketo%20PROD/x',
    want: { kind: 'forward', dsn: 'Marketo Prod', path: '/x', publicBasePath: '/marketo%20PROD' },
  },
  {
    name: 'gateway: a malformed escape matches no DSN',
    url: '/crm%zz/x',
    want: { kind: 'refuse', code: 'TOKENSHIM_UNKNOWN_DSN', status: 404 },
  },
  {
    name: 'gateway: an unknown DSN is refused with 404',
    url: '/nope/x',
    want: { kind: 'refuse', code: 'TOKENSHIM_UNKNOWN_DSN', status: 404 },
  },
  {
    name: 'gateway: the root path names no DSN',
    url: '/',
    want: { kind: 'refuse', code: 'TOKENSHIM_UNKNOWN_DSN', status: 404 },
  },
  {
    name: 'gateway: a DSN without HostName has nowhere to go (config error, 500)',
    url: '/bare/x',
    want: { kind: 'refuse', code: 'TOKENSHIM_CONFIG', status: 500 },
  },
  {
    name: 'admin: the path after /_tokenshim/, query included',
    url: '/_tokenshim/status?format=json',
    want: { kind: 'admin', path: 'status?format=json' },
  },
  {
    name: 'Host check: a foreign Host is refused (DNS rebinding), even for admin paths',
    url: '/_tokenshim/health',
    headers: { host: 'attacker.example:8790' },
    want: { kind: 'refuse', code: 'TOKENSHIM_HOST_NOT_ALLOWED', status: 421 },
  },
  {
    name: 'Host check: no Host at all is refused',
    url: '/crm/x',
    headers: {},
    want: { kind: 'refuse', code: 'TOKENSHIM_HOST_NOT_ALLOWED', status: 421 },
  },
  {
    name: 'Host check: localhost, *.localhost and [::1] name this machine',
    url: '/crm/x',
    headers: { host: 'app.localhost:8790' },
    want: { kind: 'forward', dsn: 'crm', publicOrigin: 'http://app.localhost:8790' },
  },
  {
    name: 'an https listener (--tls-cert): the public origin is https',
    url: '/crm/x',
    listener: { ...main, scheme: 'https' },
    want: { kind: 'forward', dsn: 'crm', publicOrigin: 'https://127.0.0.1:8790' },
  },
  {
    name: 'header count: more than 200 headers get 431 before anything reads them',
    url: 'http://attacker.example/',
    headers: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`x-h${i}`, 'v'])),
    want: { kind: 'refuse', code: 'TOKENSHIM_TOO_MANY_HEADERS', status: 431 },
  },
  {
    name: 'absolute form: an origin a DSN claims goes there (https when HostName is), path unmapped',
    url: 'http://API.example.com:80/v2/items?x',
    headers: { host: 'api.example.com' },
    want: {
      kind: 'forward',
      dsn: 'files',
      origin: 'https://api.example.com',
      host: 'api.example.com',
      path: '/v2/items?x',
      upstreamBasePath: '',
      publicOrigin: 'http://api.example.com',
      publicBasePath: '',
    },
  },
  {
    name: 'absolute form: an AllowedHosts origin counts; userinfo is dropped; no path means /',
    url: 'http://user@cdn.example.com',
    headers: { host: 'cdn.example.com' },
    want: { kind: 'forward', dsn: 'files', origin: 'https://cdn.example.com', path: '/' },
  },
  {
    name: 'absolute form: the Host header is not consulted (it names the upstream)',
    url: 'http://api.example.com/x',
    headers: { host: 'attacker.example' },
    want: { kind: 'forward', dsn: 'files' },
  },
  {
    name: 'absolute form: an origin no DSN claims is refused (not an open relay)',
    url: 'http://other.example.com/x',
    headers: { host: 'other.example.com' },
    want: { kind: 'refuse', code: 'TOKENSHIM_FOREIGN_ORIGIN', status: 403 },
  },
  {
    name: 'absolute form naming tokenshim itself is its path (RFC 9112 3.2.2), Host ignored',
    url: 'http://127.0.0.1:8790/crm/x',
    headers: { host: 'attacker.example' },
    want: {
      kind: 'forward',
      dsn: 'crm',
      path: '/rest/v1/x',
      publicOrigin: 'http://127.0.0.1:8790',
      publicBasePath: '/crm',
    },
  },
  {
    name: 'absolute form naming tokenshim itself reaches the admin routes',
    url: 'http://localhost:8790/_tokenshim/health',
    want: { kind: 'admin', path: 'health' },
  },
  {
    name: "absolute form: tokenshim's port under a foreign name is not tokenshim",
    url: 'http://attacker.example:8790/crm/x',
    want: { kind: 'refuse', code: 'TOKENSHIM_FOREIGN_ORIGIN', status: 403 },
  },
  {
    name: 'other target forms (asterisk) name no DSN',
    url: '*',
    want: { kind: 'refuse', code: 'TOKENSHIM_UNKNOWN_DSN', status: 404 },
  },
  {
    name: "dedicated port: every path is the DSN's, mapped onto HostName's path",
    url: '/leads?x=1',
    headers: { host: '127.0.0.1:9001' },
    listener: dedicated,
    want: {
      kind: 'forward',
      dsn: 'crm',
      path: '/rest/v1/leads?x=1',
      publicOrigin: 'http://127.0.0.1:9001',
      publicBasePath: '',
    },
  },
  {
    name: "dedicated port: /_tokenshim/ is the API's path there, not the admin routes",
    url: '/_tokenshim/health',
    headers: { host: '127.0.0.1:9001' },
    listener: dedicated,
    want: { kind: 'forward', dsn: 'crm', path: '/rest/v1/_tokenshim/health' },
  },
  {
    name: 'dedicated port: a foreign Host is refused there too',
    url: '/leads',
    headers: { host: 'attacker.example:9001' },
    listener: dedicated,
    want: { kind: 'refuse', code: 'TOKENSHIM_HOST_NOT_ALLOWED', status: 421 },
  },
  {
    name: 'dedicated port: the absolute form of its own URLs is its path',
    url: 'http://127.0.0.1:9001/leads',
    listener: dedicated,
    want: { kind: 'forward', dsn: 'crm', path: '/rest/v1/leads', publicBasePath: '' },
  },
  {
    name: 'dedicated port whose DSN a reload removed: 404 naming the DSN',
    url: '/leads',
    headers: { host: '127.0.0.1:9002' },
    listener: { ...dedicated, port: 9002, dsnName: 'gone' },
    want: { kind: 'refuse', code: 'TOKENSHIM_UNKNOWN_DSN', status: 404 },
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const route = routeRequest(req(c.url, c.headers), c.listener ?? main, table);
    t.match(summary(route), c.want);
    if (route.kind === 'refuse') t.type(route.error, TokenshimError);
  });
}

t.test('a refusal names what to do: the unknown DSN lists the configured ones', async (t) => {
  const route = routeRequest(req('/nope/x'), main, table);
  t.equal(route.kind, 'refuse');
  if (route.kind !== 'refuse') return;
  t.match(route.error.message, /No DSN named "nope".*"crm", "Marketo Prod", "files", "bare"/);
  t.same(route.error.toProblem().dsns, ['crm', 'Marketo Prod', 'files', 'bare']);
});

t.test(
  'the unknown-DSN hint is a path on the port the client used, its name percent-encoded',
  async (t) => {
    const route = routeRequest(req('/nope/x'), main, tableOf(spaced, crm));
    t.equal(route.kind, 'refuse');
    if (route.kind !== 'refuse') return;
    t.match(route.error.message, '(/Marketo%20Prod/...)');
    t.notMatch(route.error.message, /8790/, 'no port of its own: the client knows which it used');
  },
);

t.test('any DSN name routes by its percent-encoded form', async (t) => {
  const names = ['Données clients', 'crm (test) #2', '100% & more', 'a+b?c', 'Ü;x=1'];
  const odd = tableOf(
    ...names.map((name) => makeDsn({ name, upstream: new URL('https://api.example.com/v1') })),
  );
  for (const name of names) {
    const encoded = encodeURIComponent(name);
    t.match(
      summary(routeRequest(req(`/${encoded}/items?q=1`), main, odd)),
      { kind: 'forward', dsn: name, path: '/v1/items?q=1', publicBasePath: `/${encoded}` },
      name,
    );
  }
  t.match(
    summary(routeRequest(req('/a+b%3Fc/x'), main, odd)),
    { kind: 'forward', dsn: 'a+b?c', path: '/v1/x' },
    'a "+" in a path is a plus, not a space',
  );
  t.match(
    summary(routeRequest(req('/_TOKENSHIM/health'), main, odd)),
    { kind: 'refuse', code: 'TOKENSHIM_UNKNOWN_DSN' },
    'the admin prefix in another case is no DSN either (config refuses such a name)',
  );
});

t.test('a DSN without HostName: the refusal names the DSN and the option', async (t) => {
  const route = routeRequest(req('/bare/x'), main, table);
  t.match(route, {
    kind: 'refuse',
    error: { message: /DSN "bare" has no HostName: set HostName/ },
  });
});

t.test('a pass that does not decide returns undefined', async (t) => {
  const r = { req: req('/crm/x'), listener: main, table, path: '/crm/x', publicOrigin: '' };
  t.equal(routeAdmin(r), undefined);
});

t.test('routeDsnRequest: a request already bound for a DSN (decrypted CONNECT)', async (t) => {
  const decrypted = req('/v2/items?x', { host: 'api.example.com' });
  t.match(summary(routeDsnRequest(decrypted, table, 'FILES', '/v2/items?x')), {
    kind: 'forward',
    dsn: 'files',
    origin: 'https://api.example.com',
    host: 'api.example.com',
    path: '/v2/items?x',
    upstreamBasePath: '',
    publicOrigin: 'https://api.example.com',
    publicBasePath: '',
  });
  t.match(
    summary(
      routeDsnRequest(decrypted, table, 'files', 'v2', { origin: 'https://cdn.example.com/' }),
    ),
    { kind: 'forward', origin: 'https://cdn.example.com', host: 'cdn.example.com', path: '/v2' },
    'an AllowedHosts origin, with a path that lacked its slash',
  );
  t.match(
    summary(routeDsnRequest(decrypted, table, 'files', '/x', { origin: 'https://evil.example' })),
    { kind: 'refuse', code: 'TOKENSHIM_FOREIGN_ORIGIN', status: 403 },
    'credentials never go to an origin outside HostName and AllowedHosts',
  );
  t.match(summary(routeDsnRequest(decrypted, table, 'gone', '/x')), {
    kind: 'refuse',
    code: 'TOKENSHIM_UNKNOWN_DSN',
    status: 404,
  });
});
