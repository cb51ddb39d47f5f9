import t from 'tap';
import { request } from 'undici';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startUpstream } from '../fixtures/upstream.js';
import { startProxy } from './proxy-harness.js';

t.test(
  'gateway: /<DSN>/<path>?<query> goes to <HostName>/<path>?<query> with the credential',
  async (t) => {
    const up = await startUpstream(t);
    const dsn = makeDsn({ name: 'marketo', method: 54, upstream: new URL(`${up.origin}/rest/v1`) });
    const { server, stub } = await startProxy(t, [dsn]);

    const res = await request(`${server.url}/marketo/leads.json?filterType=id&filterValues=1%2C2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic client-own' },
      body: '{"a":1}',
    });
    t.equal(res.statusCode, 200);
    await res.body.text();
    const got = up.requests[0]!;
    t.equal(got.method, 'POST');
    t.equal(
      got.url,
      '/rest/v1/leads.json?filterType=id&filterValues=1%2C2',
      'path joined to the base path, query byte-identical',
    );
    t.equal(got.body.toString(), '{"a":1}');
    t.equal(
      got.headers.authorization,
      `Bearer ${stub('marketo').currentToken}`,
      'the client Authorization is replaced',
    );
    t.equal(got.headers.host, `127.0.0.1:${up.port}`, 'Host names the upstream');
    t.equal(got.headers['x-forwarded-host'], `127.0.0.1:${server.port}`);
    t.equal(got.headers['x-forwarded-proto'], 'http');
    t.equal(got.headers['x-forwarded-for'], '127.0.0.1');
    t.equal(got.headers['content-type'], 'application/json');
  },
);

t.test('DSN names match case-insensitively and may be percent-encoded', async (t) => {
  const up = await startUpstream(t);
  const { server } = await startProxy(t, [
    makeDsn({ name: 'My Api', upstream: new URL(up.origin) }),
  ]);
  for (const path of ['/My%20Api/x', '/my%20api/x', '/MY%20API/x']) {
    const res = await request(server.url + path);
    t.equal(res.statusCode, 200, path);
    await res.body.dump();
  }
  t.same(
    up.requests.map((r) => r.url),
    ['/x', '/x', '/x'],
  );
});

t.test('the bare DSN path and a query without a path map to the base path', async (t) => {
  const up = await startUpstream(t);
  const { server } = await startProxy(t, [
    makeDsn({ name: 'based', upstream: new URL(`${up.origin}/api`) }),
    makeDsn({ name: 'root', upstream: new URL(up.origin) }),
  ]);
  for (const path of ['/based', '/based/', '/based?x=1', '/root', '/root?y=2']) {
    const res = await request(server.url + path);
    await res.body.dump();
  }
  t.same(
    up.requests.map((r) => r.url),
    ['/api', '/api/', '/api?x=1', '/', '/?y=2'],
  );
});

t.test('unknown DSN: 404 problem listing the DSNs', async (t) => {
  const up = await startUpstream(t);
  const { server } = await startProxy(t, [
    makeDsn({ name: 'alpha', upstream: new URL(up.origin) }),
    makeDsn({ name: 'beta', upstream: new URL(up.origin) }),
  ]);
  const res = await request(`${server.url}/gamma/x`);
  t.equal(res.statusCode, 404);
  t.equal(res.headers['content-type'], 'application/problem+json');
  const body = (await res.body.json()) as Record<string, unknown>;
  t.equal(body.code, 'TOKENSHIM_UNKNOWN_DSN');
  t.same(body.dsns, ['alpha', 'beta']);
  t.match(body.detail, /No DSN named "gamma".*"alpha", "beta"/);
  t.equal(up.requests.length, 0);
});

t.test('dedicated port: ListenPort answers at /<path> with the DSN unchanged paths', async (t) => {
  const up = await startUpstream(t);
  const probe = await startProxy(t, []);
  // a free port for the DSN: the probe's, once it is closed
  const port = probe.server.port;
  await probe.server.close({ drainMs: 0 });
  const dsn = makeDsn({
    name: 'ded',
    method: 54,
    upstream: new URL(`${up.origin}/base`),
    listenPort: port,
  });
  const { server, stub } = await startProxy(t, [dsn]);
  t.equal(server.dedicatedUrl('ded'), `http://127.0.0.1:${port}`);
  const res = await request(`http://127.0.0.1:${port}/items?page=2`);
  t.equal(res.statusCode, 200);
  await res.body.dump();
  t.equal(up.requests[0]!.url, '/base/items?page=2');
  t.equal(up.requests[0]!.headers.authorization, `Bearer ${stub('ded').currentToken}`);
  t.equal(server.dsnUrl('DED'), `${server.url}/ded`);
});

t.test(
  'query placement replaces a same-named parameter and keeps the rest byte for byte',
  async (t) => {
    const up = await startUpstream(t);
    const { server, stub } = await startProxy(
      t,
      [makeDsn({ name: 'mkto', method: 54, upstream: new URL(up.origin) })],
      {
        stubOptions: { mkto: { placement: 'query' } },
      },
    );
    const res = await request(`${server.url}/mkto/x?b=%20+1&access_token=client&a=2`);
    await res.body.dump();
    t.equal(up.requests[0]!.url, `/x?b=%20+1&a=2&access_token=${stub('mkto').currentToken}`);
    const res2 = await request(`${server.url}/mkto/y`);
    await res2.body.dump();
    t.equal(up.requests[1]!.url, `/y?access_token=${stub('mkto').currentToken}`);
  },
);

t.test('hop-by-hop headers are removed both ways, with the ones Connection names', async (t) => {
  const up = await startUpstream(t, {
    handler: (_req, res) => {
      res.writeHead(200, {
        connection: 'keep-alive, x-upstream-hop',
        'x-upstream-hop': 'drop me',
        'keep-alive': 'timeout=5',
        'proxy-authenticate': 'Basic',
        'x-end-to-end': 'keep me',
        'content-length': '2',
      });
      res.end('ok');
    },
  });
  const { server } = await startProxy(t, [makeDsn({ name: 'h', upstream: new URL(up.origin) })]);
  const { statusCode, headers } = await new Promise<{
    statusCode: number;
    headers: Record<string, unknown>;
  }>((resolve, reject) => {
    import('node:http').then(({ request: httpRequest }) => {
      const req = httpRequest(`${server.url}/h/x`, {
        headers: {
          connection: 'keep-alive, x-client-hop',
          'x-client-hop': 'drop me',
          'keep-alive': 'timeout=5',
          te: 'trailers',
          'proxy-authorization': 'Basic c2VjcmV0',
          upgrade: 'websocket',
          'x-end-to-end': 'keep me',
        },
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    }, reject);
  });
  t.equal(statusCode, 200);
  const sent = up.requests[0]!.headers;
  for (const h of ['x-client-hop', 'keep-alive', 'te', 'proxy-authorization', 'upgrade'])
    t.notOk(sent[h], `${h} not sent upstream`);
  t.equal(sent['x-end-to-end'], 'keep me');
  t.notOk(
    headers['x-upstream-hop'],
    'a header the upstream named in Connection is not passed back',
  );
  t.notOk(headers['proxy-authenticate']);
  t.equal(headers['x-end-to-end'], 'keep me');
});

t.test(
  'static credentials keep the client Authorization unless the provider strips it',
  async (t) => {
    const up = await startUpstream(t);
    const { server } = await startProxy(
      t,
      [makeDsn({ name: 'k', method: 25, upstream: new URL(up.origin) })],
      {
        stubOptions: {
          k: { staticHeader: ['X-Api-Key', 'static-key-value'], extraHeader: ['X-Tenant', 't1'] },
        },
      },
    );
    const res = await request(`${server.url}/k/x`, {
      headers: { authorization: 'Bearer client', 'x-api-key': 'client' },
    });
    await res.body.dump();
    const sent = up.requests[0]!;
    t.equal(
      sent.headers['x-api-key'],
      'static-key-value',
      'the credential header replaces the client value',
    );
    t.equal(
      sent.rawHeaders.filter((h) => h.toLowerCase() === 'x-api-key').length,
      1,
      'once, not twice',
    );
    t.equal(sent.headers['x-tenant'], 't1');
    t.equal(sent.headers.authorization, 'Bearer client');
  },
);

t.test(
  'per-user DSNs need X-Tokenshim-User, which is passed to the provider and not upstream',
  async (t) => {
    const up = await startUpstream(t);
    const { server, stub } = await startProxy(
      t,
      [makeDsn({ name: 'qlik', method: 53, upstream: new URL(up.origin) })],
      {
        stubOptions: { qlik: { perUser: true } },
      },
    );
    const missing = await request(`${server.url}/qlik/x`);
    t.equal(missing.statusCode, 400);
    t.equal(((await missing.body.json()) as { code: string }).code, 'TOKENSHIM_USER_REQUIRED');
    const res = await request(`${server.url}/qlik/x`, { headers: { 'x-tokenshim-user': 'alice' } });
    await res.body.dump();
    t.same(stub('qlik').users, ['alice']);
    t.notOk(up.requests[0]!.headers['x-tokenshim-user']);
  },
);

t.test('HEAD, 204 and 304 pass through without a body', async (t) => {
  const up = await startUpstream(t, {
    handler: (req, res) => {
      if (req.url === '/none') res.writeHead(204, { 'x-kind': 'no content' });
      else if (req.url === '/same') res.writeHead(304, { etag: '"v1"' });
      else res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
      res.end(req.method === 'HEAD' || req.url !== '/' ? undefined : 'hello');
    },
  });
  const { server } = await startProxy(t, [makeDsn({ name: 'h', upstream: new URL(up.origin) })]);
  const head = await request(`${server.url}/h/`, { method: 'HEAD' });
  t.equal(head.statusCode, 200);
  t.equal(head.headers['content-length'], '5');
  t.equal(await head.body.text(), '');
  const none = await request(`${server.url}/h/none`);
  t.equal(none.statusCode, 204);
  t.equal(none.headers['x-kind'], 'no content');
  await none.body.dump();
  const same = await request(`${server.url}/h/same`, { headers: { 'if-none-match': '"v1"' } });
  t.equal(same.statusCode, 304);
  t.equal(same.headers.etag, '"v1"');
  await same.body.dump();
  t.equal(up.requests[2]!.headers['if-none-match'], '"v1"');
});

t.test('the root path and malformed requests get clear answers', async (t) => {
  const { server } = await startProxy(t, [
    makeDsn({ name: 'only', upstream: new URL('http://127.0.0.1:9') }),
  ]);
  const root = await request(`${server.url}/`);
  t.equal(root.statusCode, 404);
  t.match(((await root.body.json()) as { detail: string }).detail, /The path names no DSN.*"only"/);
  const { connect } = await import('node:net');
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  t.match(answer, /^HTTP\/1\.1 400 Bad Request/);
});

t.test(
  'an informational 103 from the upstream is skipped; the final answer comes through',
  async (t) => {
    const up = await startUpstream(t, {
      handler: (_req, res) => {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('final');
      },
    });
    const { server } = await startProxy(t, [makeDsn({ name: 'h', upstream: new URL(up.origin) })]);
    const res = await request(`${server.url}/h/x`);
    t.equal(res.statusCode, 200);
    t.equal(await res.body.text(), 'final');
  },
);
