import t from 'tap';
import type { RoutedRequest } from '../../../lib/proxy/routing/route-request.js';
import type { Route } from '../../../lib/proxy/routing/route.js';
import { plainHttpTunnel, routeTunnelledRequest } from '../../../lib/proxy/routing/tunnel-route.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { tableOf } from './routing-fixture.js';

const table = tableOf(
  makeDsn({ name: 'secure', upstream: new URL('https://api.example.com/v1') }),
  makeDsn({ name: 'alt', upstream: new URL('https://alt.example.com:8443') }),
  makeDsn({
    name: 'plain',
    upstream: new URL('http://legacy.example.com:8080/rest'),
    credentialOrigins: ['http://files.example.com:8081'],
  }),
  makeDsn({ name: 'v6', upstream: new URL('http://[::1]:9000') }),
);

t.test('which CONNECT targets carry plain HTTP for a DSN', async (t) => {
  const cases: [string, string | undefined, string][] = [
    ['legacy.example.com:8080', 'legacy.example.com:8080', "an http:// HostName's origin"],
    ['files.example.com:8081', 'files.example.com:8081', 'an http:// AllowedHosts origin'],
    [
      'api.example.com:80',
      'api.example.com',
      'http://api.example.com, as the forward proxy takes it',
    ],
    ['[::1]:9000', '[::1]:9000', 'an IPv6 origin'],
    ['api.example.com:443', undefined, 'port 443 is TLS'],
    ['alt.example.com:8443', undefined, "the port of a DSN's https origin is TLS"],
    ['other.example.com:80', undefined, 'no DSN names it'],
    ['legacy.example.com:9999', undefined, 'another port of a DSN host'],
    ['not a target', undefined, 'not host:port'],
  ];
  for (const [target, authority, why] of cases) {
    t.equal(plainHttpTunnel(target, table)?.authority, authority, `${target}: ${why}`);
  }
});

function req(url: string, headers: Record<string, string>): RoutedRequest {
  return { url, rawHeaders: Object.entries(headers).flat() };
}

function summary(route: Route): Record<string, unknown> {
  if (route.kind === 'forward') {
    const { binding, ...target } = route.target;
    return { kind: 'forward', dsn: binding.dsn.name, ...target };
  }
  if (route.kind === 'refuse')
    return { kind: 'refuse', code: route.error.code, status: route.error.status };
  return { kind: route.kind };
}

t.test('a request in a tunnel is the forward proxy’s request for its origin', async (t) => {
  const tunnel = plainHttpTunnel('legacy.example.com:8080', table)!;
  t.same(
    summary(
      routeTunnelledRequest(
        req('/rest/items?x=1', { Host: 'legacy.example.com:8080' }),
        table,
        tunnel,
      ),
    ),
    {
      kind: 'forward',
      dsn: 'plain',
      origin: 'http://legacy.example.com:8080',
      host: 'legacy.example.com:8080',
      path: '/rest/items?x=1',
      upstreamBasePath: '',
      publicOrigin: 'http://legacy.example.com:8080',
      publicBasePath: '',
    },
  );
  const upgraded = plainHttpTunnel('api.example.com:80', table)!;
  t.match(
    summary(routeTunnelledRequest(req('/v1/me', { host: 'api.example.com' }), table, upgraded)),
    {
      kind: 'forward',
      dsn: 'secure',
      origin: 'https://api.example.com',
      publicOrigin: 'http://api.example.com',
    },
    'sent upstream over https, as the forward proxy does for http://api.example.com',
  );
  t.match(
    summary(routeTunnelledRequest(req('/v1/me', { host: 'api.example.com:80' }), table, upgraded)),
    { kind: 'forward', dsn: 'secure' },
    'Host with the default port',
  );
});

t.test('refusals inside a tunnel', async (t) => {
  const tunnel = plainHttpTunnel('legacy.example.com:8080', table)!;
  const host = { host: 'legacy.example.com:8080' };
  t.same(
    summary(routeTunnelledRequest(req('/x', { host: 'evil.example.com' }), table, tunnel)),
    { kind: 'refuse', code: 'TOKENSHIM_CONNECT_REFUSED', status: 421 },
    'another Host',
  );
  t.same(
    summary(routeTunnelledRequest(req('http://evil.example.com/x', host), table, tunnel)),
    { kind: 'refuse', code: 'TOKENSHIM_CONNECT_REFUSED', status: 400 },
    'an absolute URL',
  );
  const many: Record<string, string> = { ...host };
  for (let i = 0; i < 250; i++) many[`x-h${i}`] = 'v';
  t.same(summary(routeTunnelledRequest(req('/x', many), table, tunnel)), {
    kind: 'refuse',
    code: 'TOKENSHIM_TOO_MANY_HEADERS',
    status: 431,
  });
  t.same(
    summary(
      routeTunnelledRequest(req('/x', { ...host, origin: 'https://evil.example' }), table, tunnel),
    ),
    { kind: 'refuse', code: 'TOKENSHIM_CROSS_SITE', status: 403 },
    'a web page, as on every route',
  );
  t.same(
    summary(routeTunnelledRequest({ ...req('/x', host), method: 'TRACE' }, table, tunnel)),
    { kind: 'refuse', code: 'TOKENSHIM_METHOD_REFUSED', status: 501 },
    'TRACE, which would echo the credential',
  );
  const reloaded = tableOf(
    makeDsn({ name: 'secure', upstream: new URL('https://api.example.com') }),
  );
  t.same(
    summary(routeTunnelledRequest(req('/x', host), reloaded, tunnel)),
    { kind: 'refuse', code: 'TOKENSHIM_FOREIGN_ORIGIN', status: 403 },
    'a reload that removed the DSN applies to open tunnels',
  );
});
