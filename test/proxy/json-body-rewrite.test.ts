import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { capturingLogger } from '../fixtures/imitations/sample-harness.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startUpstream, type Upstream } from '../fixtures/upstream.js';
import { WHOLE_BODY_BYTES } from '../../lib/proxy/forward/rewritten-body.js';
import { viaProxy } from './client-requests.js';
import { startProxy, type ProxyUnderTest } from './proxy-harness.js';

/** A page that names its next page with the upstream's own absolute URL, plain and JSON-escaped. */
function pageBody(origin: string): string {
  return (
    `{"@odata.nextLink":"${origin}/v1.0/users?$skiptoken=X%2BY",` +
    `"escaped":"${origin.replaceAll('/', '\\/')}\\/v1.0\\/users?page=3",` +
    `"elsewhere":"https://cdn.example.org/x","value":[{"id":1}]}`
  );
}

type Shape = (res: ServerResponse, body: string) => void;

const plainJson: Shape = (res, body) => {
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    etag: '"v1"',
  });
  res.end(body);
};

async function setUp(
  t: Test,
  shape: Shape,
  dsnExtra: Parameters<typeof makeDsn>[0] = {},
): Promise<{ up: Upstream; proxy: ProxyUnderTest; gateway: string }> {
  const up = await startUpstream(t, {
    handler: (_req, res) => shape(res, pageBody(`http://127.0.0.1:${up.port}`)),
  });
  const proxy = await startProxy(t, [
    makeDsn({ name: 'graph', method: 54, upstream: new URL(`${up.origin}/v1.0`), ...dsnExtra }),
  ]);
  return { up, proxy, gateway: `${proxy.server.url}/graph` };
}

t.test('a JSON page on the gateway: its next links point back at the gateway', async (t) => {
  const { gateway } = await setUp(t, plainJson);
  const res = await request(`${gateway}/users`);
  t.equal(res.statusCode, 200);
  const text = await res.body.text();
  const body = JSON.parse(text) as Record<string, string>;
  t.equal(body['@odata.nextLink'], `${gateway}/users?$skiptoken=X%2BY`);
  t.equal(body['escaped'], `${gateway}/users?page=3`);
  t.match(
    text,
    /"escaped":"http:\\\/\\\/127\.0\.0\.1:\d+\\\/graph\\\/users\?page=3"/,
    'still escaped',
  );
  t.equal(body['elsewhere'], 'https://cdn.example.org/x');
  t.equal(
    res.headers['content-length'],
    String(Buffer.byteLength(text)),
    'a small body is sent whole, with its new length',
  );
  t.equal(res.headers['transfer-encoding'], undefined);
  t.equal(res.headers.etag, 'W/"v1"', 'a strong ETag becomes weak');
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8');

  const next = await request(body['@odata.nextLink']!);
  t.equal(next.statusCode, 200, 'and following the link stays on the proxy');
  await next.body.dump();
});

t.test('the dedicated port maps the links onto itself', async (t) => {
  const up = await startUpstream(t, {
    handler: (_req, res) => plainJson(res, pageBody(`http://127.0.0.1:${up.port}`)),
  });
  const probe = await startProxy(t, []);
  const port = probe.server.port;
  await probe.server.close({ drainMs: 0 });
  await startProxy(t, [
    makeDsn({
      name: 'graph',
      method: 54,
      upstream: new URL(`${up.origin}/v1.0`),
      listenPort: port,
    }),
  ]);
  const res = await request(`http://127.0.0.1:${port}/users`);
  const body = (await res.body.json()) as Record<string, string>;
  t.equal(body['@odata.nextLink'], `http://127.0.0.1:${port}/users?$skiptoken=X%2BY`);
});

t.test('compressed pages are decoded and sent plain, with truthful headers', async (t) => {
  const codings: [string, (b: Buffer) => Buffer][] = [
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate', deflateSync],
    ['deflate', deflateRawSync],
    ['br', brotliCompressSync],
  ];
  for (const [coding, compress] of codings) {
    const { gateway } = await setUp(t, (res, body) => {
      const bytes = compress(Buffer.from(body));
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': coding,
        'content-length': bytes.length,
        vary: 'Accept-Encoding',
      });
      res.end(bytes);
    });
    const res = await request(`${gateway}/users`, {
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    t.equal(res.headers['content-encoding'], undefined, `${coding}: sent decoded`);
    t.equal(res.headers.vary, 'Accept-Encoding');
    const text = await res.body.text();
    t.equal(res.headers['content-length'], String(Buffer.byteLength(text)), 'the decoded length');
    const body = JSON.parse(text) as Record<string, string>;
    t.equal(
      body['@odata.nextLink'],
      `${gateway}/users?$skiptoken=X%2BY`,
      `${coding} (${compress.name})`,
    );
  }
});

t.test(
  'a body announced larger than the whole-body limit, or of unknown length, is chunked',
  async (t) => {
    const padding = `,"pad":"${'x'.repeat(WHOLE_BODY_BYTES)}"}`;
    const large: Shape = (res, body) => plainJson(res, body.slice(0, -1) + padding);
    const { gateway } = await setUp(t, large);
    const res = await request(`${gateway}/users`);
    const body = (await res.body.json()) as Record<string, string>;
    t.equal(body['@odata.nextLink'], `${gateway}/users?$skiptoken=X%2BY`);
    t.equal(res.headers['content-length'], undefined, 'the length changed: the body is chunked');
    t.equal(res.headers['transfer-encoding'], 'chunked');

    const unknown = await setUp(t, (res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const res2 = await request(`${unknown.gateway}/users`);
    await res2.body.json();
    t.equal(
      res2.headers['transfer-encoding'],
      'chunked',
      'no length announced: streamed as it comes',
    );
  },
);

t.test('a small compressed body that decodes past the limit is streamed from there', async (t) => {
  const padding = `,"pad":"${'x'.repeat(4 * WHOLE_BODY_BYTES)}"}`;
  const { gateway } = await setUp(t, (res, body) => {
    const bytes = gzipSync(Buffer.from(body.slice(0, -1) + padding));
    t.ok(bytes.length <= WHOLE_BODY_BYTES, 'announced small');
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'content-length': bytes.length,
    });
    res.end(bytes);
  });
  const res = await request(`${gateway}/users`);
  const body = (await res.body.json()) as Record<string, string>;
  t.equal(body['@odata.nextLink'], `${gateway}/users?$skiptoken=X%2BY`);
  t.equal(body['pad']!.length, 4 * WHOLE_BODY_BYTES, 'nothing lost at the switch');
  t.equal(res.headers['transfer-encoding'], 'chunked');
});

t.test('a URL the upstream writes in several pieces is still rewritten', async (t) => {
  const { gateway } = await setUp(t, (res, body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const cut = body.indexOf('127.0.0.1') + 4;
    res.write(body.slice(0, cut));
    // the next piece leaves in a later tick, so the proxy sees two chunks
    setTimeout(() => res.end(body.slice(cut)), 20);
  });
  const body = (await (await request(`${gateway}/users`)).body.json()) as Record<string, string>;
  t.equal(body['@odata.nextLink'], `${gateway}/users?$skiptoken=X%2BY`);
});

t.test('bodies that are not JSON are never touched', async (t) => {
  for (const type of ['text/plain', 'text/html', 'application/octet-stream', 'application/jsonl']) {
    const { gateway, up } = await setUp(t, (res, body) => {
      res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    const res = await request(`${gateway}/users`);
    t.equal(
      res.headers['content-length'],
      String(Buffer.byteLength(pageBody(up.origin))),
      `${type}: length kept`,
    );
    t.equal(await res.body.text(), pageBody(up.origin), `${type}: byte for byte`);
  }
  const { gateway, up } = await setUp(t, (res, body) => {
    const bytes = gzipSync(Buffer.from(body));
    res.writeHead(200, { 'content-type': 'text/csv', 'content-encoding': 'gzip' });
    res.end(bytes);
  });
  const res = await request(`${gateway}/users`);
  t.equal(res.headers['content-encoding'], 'gzip', 'a compressed non-JSON body stays compressed');
  t.equal(
    Buffer.from(await res.body.arrayBuffer()).equals(gzipSync(Buffer.from(pageBody(up.origin)))),
    true,
  );
});

t.test('a JSON body in a coding tokenshim cannot decode passes as it came', async (t) => {
  const { gateway } = await setUp(t, (res, body) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'zstd' });
    res.end(body);
  });
  const res = await request(`${gateway}/users`);
  t.equal(res.headers['content-encoding'], 'zstd');
  t.match(await res.body.text(), /"@odata.nextLink":"http:\/\/127\.0\.0\.1:\d+\/v1\.0\/users/);
});

t.test('HEAD, 204 and 206 answers keep their heads', async (t) => {
  const { gateway } = await setUp(t, (res, body) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  const head = await request(`${gateway}/users`, { method: 'HEAD' });
  t.ok(Number(head.headers['content-length']) > 0, 'HEAD: the length of what a GET would get');
  await head.body.dump();
  const { gateway: partial } = await setUp(t, (res, body) => {
    res.writeHead(206, {
      'content-type': 'application/json',
      'content-range': `bytes 0-9/${body.length}`,
      'content-length': 10,
    });
    res.end(body.slice(0, 10));
  });
  const range = await request(`${partial}/users`, { headers: { range: 'bytes=0-9' } });
  t.equal(range.headers['content-length'], '10');
  t.equal((await range.body.text()).length, 10);
});

t.test('RewriteBodyUrls=0 passes the body through untouched', async (t) => {
  const { gateway, up } = await setUp(t, plainJson, { rewriteBodyUrls: false });
  const res = await request(`${gateway}/users`);
  t.equal(res.headers['content-length'], String(Buffer.byteLength(pageBody(up.origin))));
  t.equal(await res.body.text(), pageBody(up.origin));
});

t.test('the forward-proxy route needs none of it: bodies pass untouched', async (t) => {
  const { proxy, up } = await setUp(t, plainJson);
  const res = await viaProxy(proxy.server.port, `${up.origin}/v1.0/users`);
  t.equal(res.status, 200);
  t.equal(res.body, pageBody(up.origin));
});

t.test(
  'a credential in the query is never echoed into a rewritten URL (body and Link)',
  async (t) => {
    const up = await startUpstream(t, {
      handler: (req, res) => {
        const self = `http://127.0.0.1:${up.port}${req.url ?? '/'}`;
        const body = JSON.stringify({ next: `${self}&page=2`, value: [] });
        res.writeHead(200, {
          'content-type': 'application/json',
          link: `<${self}&page=2>; rel="next"`,
        });
        res.end(body);
      },
    });
    const proxy = await startProxy(
      t,
      [makeDsn({ name: 'mkto', method: 54, upstream: new URL(up.origin) })],
      { stubOptions: { mkto: { placement: 'query' } } },
    );
    const res = await request(`${proxy.server.url}/mkto/leads.json?batchSize=2`);
    const token = proxy.stub('mkto').currentToken;
    t.match(
      up.requests[0]!.url,
      `access_token=${token}`,
      'the upstream got the token in its query',
    );
    const text = await res.body.text();
    t.notMatch(text, token, 'not in the body');
    t.notMatch(String(res.headers.link), token, 'not in the Link header');
    t.equal(JSON.parse(text).next, `${proxy.server.url}/mkto/leads.json?batchSize=2&page=2`);
  },
);

t.test(
  'a small JSON body that does not decode as it says: 502 problem+json naming the DSN and the fix',
  async (t) => {
    const log = capturingLogger();
    const broken = Buffer.concat([
      gzipSync(Buffer.from('{"a":')).subarray(0, 12),
      Buffer.from('garbage!'),
    ]);
    const up = await startUpstream(t, {
      handler: (_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': String(broken.length),
        });
        res.end(broken);
      },
    });
    const proxy = await startProxy(
      t,
      [makeDsn({ name: 'bad', method: 54, upstream: new URL(up.origin) })],
      { logger: log.logger },
    );
    const res = await request(`${proxy.server.url}/bad/x`);
    t.equal(res.statusCode, 502, 'the head had not gone out: a status that says so');
    t.match(res.headers['content-type'], 'application/problem+json');
    const problem = (await res.body.json()) as { code: string; detail: string };
    t.equal(problem.code, 'TOKENSHIM_UPSTREAM_BAD_BODY');
    t.match(problem.detail, 'DSN "bad"');
    t.match(problem.detail, 'does not decode as its Content-Encoding (gzip) says');
    t.match(problem.detail, 'RewriteBodyUrls=0');
    t.match(log.text(), /does not decode as its Content-Encoding says; the client got 502/);
  },
);

t.test(
  'a JSON body that does not decode as it says: the answer is cut and the log says why',
  async (t) => {
    const log = capturingLogger();
    const up = await startUpstream(t, {
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(
          Buffer.concat([gzipSync(Buffer.from('{"a":')).subarray(0, 12), Buffer.from('garbage!')]),
        );
      },
    });
    const proxy = await startProxy(
      t,
      [makeDsn({ name: 'bad', method: 54, upstream: new URL(up.origin) })],
      {
        logger: log.logger,
      },
    );
    const res = await request(`${proxy.server.url}/bad/x`);
    t.equal(res.statusCode, 200, 'the head had gone out');
    await t.rejects(res.body.text(), 'the client sees the body fail, never a clean end');
    t.match(log.text(), /does not decode as its Content-Encoding says; the answer was cut/);
    t.match(log.text(), /"dsn":"bad"/);
  },
);
