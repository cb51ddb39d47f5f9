import t from 'tap';
import { request } from 'undici';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startUpstream } from '../fixtures/upstream.js';
import { viaProxy } from './client-requests.js';
import { startProxy } from './proxy-harness.js';

t.test(
  'Location, Content-Location and Link pointing at the upstream come back on the route used',
  async (t) => {
    let origin = '';
    const up = await startUpstream(t, {
      handler: (_req, res) => {
        res.writeHead(302, {
          location: `${origin}/rest/v1/items/2`,
          'content-location': '/rest/v1/items/2',
          link: `<${origin}/rest/v1/items?page=3>; rel="next", <https://elsewhere.example/x>; rel="help"`,
          'content-length': '0',
        });
        res.end();
      },
    });
    origin = up.origin;
    const dsn = makeDsn({ name: 'api', method: 54, upstream: new URL(`${up.origin}/rest/v1`) });
    const { server } = await startProxy(t, [dsn]);

    const gw = await request(`${server.url}/api/items`);
    await gw.body.dump();
    t.equal(gw.statusCode, 302);
    t.equal(gw.headers.location, `${server.url}/api/items/2`);
    t.equal(gw.headers['content-location'], '/api/items/2');
    t.equal(
      gw.headers.link,
      `<${server.url}/api/items?page=3>; rel="next", <https://elsewhere.example/x>; rel="help"`,
    );
    t.equal(up.requests.length, 1, 'the redirect is not followed');

    const fw = await viaProxy(server.port, `${up.origin}/rest/v1/items`);
    t.equal(fw.status, 302);
    t.equal(
      fw.headers.location,
      `${up.origin}/rest/v1/items/2`,
      'forward proxy: absolute, the origin the client used',
    );
  },
);

t.test(
  'a redirect to another origin is passed to the client, never followed with credentials',
  async (t) => {
    const attacker = await startUpstream(t);
    const up = await startUpstream(t, {
      handler: (_req, res) => {
        res.writeHead(307, { location: `${attacker.origin}/collect`, 'content-length': '0' });
        res.end();
      },
    });
    const { server } = await startProxy(t, [
      makeDsn({ name: 'api', method: 54, upstream: new URL(up.origin) }),
    ]);
    const res = await request(`${server.url}/api/x`, { method: 'POST', body: 'data' });
    await res.body.dump();
    t.equal(res.statusCode, 307);
    t.equal(res.headers.location, `${attacker.origin}/collect`);
    t.equal(attacker.requests.length, 0);
    // and a client that follows it through the proxy is refused there
    const followed = await viaProxy(server.port, `${attacker.origin}/collect`);
    t.equal(followed.status, 403);
    t.equal(attacker.requests.length, 0);
  },
);

t.test(
  'a token placed in the query never comes back in Location, Content-Location or Link',
  async (t) => {
    let origin = '';
    const up = await startUpstream(t, {
      // an API that points at the URL it was asked for, as paging and 201 Created answers do
      handler: (req, res) => {
        const self = `${origin}${req.url ?? '/'}`;
        res.writeHead(201, {
          location: self,
          'content-location': req.url ?? '/',
          link: `<${self}&page=2>; rel="next"`,
          'content-length': '0',
        });
        res.end();
      },
    });
    origin = up.origin;
    const { server, stub } = await startProxy(
      t,
      [makeDsn({ name: 'mkto', method: 54, upstream: new URL(up.origin) })],
      { stubOptions: { mkto: { placement: 'query' } } },
    );
    const res = await request(`${server.url}/mkto/leads?batchSize=2`, { method: 'POST' });
    await res.body.dump();
    const token = stub('mkto').currentToken;
    t.match(up.requests[0]!.url, `access_token=${token}`, 'the upstream got the token');
    t.equal(res.headers.location, `${server.url}/mkto/leads?batchSize=2`);
    t.equal(res.headers['content-location'], '/mkto/leads?batchSize=2');
    t.equal(res.headers.link, `<${server.url}/mkto/leads?batchSize=2&page=2>; rel="next"`);
  },
);
