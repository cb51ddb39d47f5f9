import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { makeDsn, type DsnOverrides } from '../fixtures/make-dsn.js';
import { startUpstream, type Upstream } from '../fixtures/upstream.js';
import { startProxy, type ProxyUnderTest } from './proxy-harness.js';

// RefreshOnBody: Marketo answers a dead token with HTTP 200 and {"success":false,"errors":[{"code":
// "601"}]}. With RefreshOnBody=errors[].code=601,602 such an answer is treated as RefreshOnStatus
// treats a 401: the token is reported, a new one fetched, the request replayed once.

const MARKETO_RULE = [{ path: 'errors.code', values: ['601', '602'] }];

interface Body {
  type?: string;
  body: Buffer | string;
  gzip?: boolean;
}

interface Shape {
  /** the body for a token the upstream does not take */
  rejected?: (token: string) => Body;
  /** the body for the token it takes */
  accepted?: (bytes: number) => Body;
  /** send without Content-Length (chunked), in pieces of this many bytes */
  chunked?: number;
}

/** An upstream that takes only the provider's second token, answering 200 either way. */
async function rig(
  t: Test,
  shape: Shape = {},
  dsn: DsnOverrides = { refreshOnBody: MARKETO_RULE },
): Promise<{ up: Upstream; proxy: ProxyUnderTest; url: string }> {
  let accepted = '';
  const rejected: (token: string) => Body =
    shape.rejected ??
    (() => ({
      body: JSON.stringify({
        requestId: 'e42b#18f0a1b2c3d',
        success: false,
        errors: [{ code: '601', message: 'Access token invalid' }],
      }),
    }));
  const ok: (bytes: number) => Body =
    shape.accepted ??
    ((bytes: number) => ({ body: JSON.stringify({ success: true, result: [{ id: 1 }], bytes }) }));
  const up = await startUpstream(t, {
    handler: (req, res: ServerResponse, recorded) => {
      const answer =
        req.headers.authorization === `Bearer ${accepted}`
          ? ok(recorded.bodyBytes)
          : rejected(String(req.headers.authorization));
      const body = answer.gzip ? gzipSync(answer.body) : Buffer.from(answer.body);
      const headers: Record<string, string> = {
        'content-type': answer.type ?? 'application/json;charset=UTF-8',
        ...(answer.gzip ? { 'content-encoding': 'gzip' } : {}),
      };
      if (shape.chunked === undefined) {
        res.writeHead(200, { ...headers, 'content-length': String(body.length) });
        res.end(body);
        return;
      }
      res.writeHead(200, headers);
      for (let i = 0; i < body.length; i += shape.chunked)
        res.write(body.subarray(i, i + shape.chunked));
      res.end();
    },
  });
  const proxy = await startProxy(t, [
    makeDsn({ name: 'mkto', method: 53, upstream: new URL(up.origin), ...dsn }),
  ]);
  const stub = proxy.stub('mkto');
  t.match(stub.currentToken, /-1$/);
  accepted = `${stub.tokenPrefix}-2`;
  return { up, proxy, url: `${proxy.server.url}/mkto` };
}

async function get(url: string, init: Parameters<typeof request>[1] = {}) {
  const res = await request(url, init);
  return {
    status: res.statusCode,
    headers: res.headers,
    body: Buffer.from(await res.body.arrayBuffer()),
  };
}

t.test(
  '200 with error 601: one new token, the request replayed, the client gets the data',
  async (t) => {
    const { up, proxy, url } = await rig(t);
    const res = await get(`${url}/rest/asset/v1/programs.json`);
    t.equal(res.status, 200);
    t.same(JSON.parse(res.body.toString()), { success: true, result: [{ id: 1 }], bytes: 0 });
    const stub = proxy.stub('mkto');
    t.equal(stub.rejections, 1, 'the token was reported');
    t.equal(stub.tokensIssued, 2, 'one new token');
    t.same(
      up.requests.map((r) => r.headers.authorization),
      [`Bearer ${stub.tokenPrefix}-1`, `Bearer ${stub.tokenPrefix}-2`],
    );
  },
);

t.test('a code given as a number matches too, and 602 (expired) as well as 601', async (t) => {
  const { proxy, url } = await rig(t, {
    rejected: () => ({
      body: '{"success":false,"errors":[{"code":602,"message":"Access token expired"}]}',
    }),
  });
  t.equal((await get(`${url}/x`)).status, 200);
  t.equal(proxy.stub('mkto').tokensIssued, 2);
});

t.test('a POST is replayed with its body', async (t) => {
  const { up, url } = await rig(t);
  const res = await get(`${url}/rest/v1/leads.json`, { method: 'POST', body: '{"input":[1,2,3]}' });
  t.equal(JSON.parse(res.body.toString()).bytes, 17);
  t.same(
    up.requests.map((r) => r.body.toString()),
    ['{"input":[1,2,3]}', '{"input":[1,2,3]}'],
  );
});

t.test(
  'replayed once: a second rejection reaches the client as the upstream sent it',
  async (t) => {
    const { up, proxy, url } = await rig(t, {
      accepted: () => ({ body: '{"success":false,"errors":[{"code":"601"}]}' }),
    });
    const res = await get(`${url}/x`);
    t.equal(res.status, 200);
    t.equal(res.body.toString(), '{"success":false,"errors":[{"code":"601"}]}');
    t.equal(up.requests.length, 2);
    t.equal(
      proxy.stub('mkto').rejections,
      1,
      'the answer to the replay does not report the token fetched for it',
    );
  },
);

t.test('answers that meet no condition pass through byte for byte', async (t) => {
  const { up, proxy, url } = await rig(t, {
    rejected: () => ({
      body: '{"success":false,"errors":[{"code":"1003","message":"Bad input"}]}',
    }),
  });
  const res = await get(`${url}/x`);
  t.equal(
    res.body.toString(),
    '{"success":false,"errors":[{"code":"1003","message":"Bad input"}]}',
  );
  t.equal(up.requests.length, 1);
  t.equal(proxy.stub('mkto').rejections, 0);
});

t.test('a chunked JSON answer is examined too', async (t) => {
  const { up, url } = await rig(t, { chunked: 7 });
  const res = await get(`${url}/x`);
  t.equal(JSON.parse(res.body.toString()).success, true);
  t.equal(up.requests.length, 2);
});

t.test(
  'a gzip answer is decoded to be examined, and passed on as it would be without',
  async (t) => {
    const shape: Shape = {
      rejected: () => ({ body: '{"success":false,"errors":[{"code":"601"}]}', gzip: true }),
      accepted: () => ({ body: '{"success":true,"result":[]}', gzip: true }),
    };
    const rewritten = await rig(t, shape);
    const res = await get(`${rewritten.url}/x`);
    t.equal(rewritten.up.requests.length, 2, 'the compressed 601 was seen');
    t.equal(res.body.toString(), '{"success":true,"result":[]}', 'decoded for URL rewriting');
    const raw = await rig(t, shape, { refreshOnBody: MARKETO_RULE, rewriteBodyUrls: false });
    const untouched = await get(`${raw.url}/x`);
    t.equal(raw.up.requests.length, 2);
    t.equal(untouched.headers['content-encoding'], 'gzip', 'RewriteBodyUrls=0: still compressed');
    t.same(untouched.body, gzipSync('{"success":true,"result":[]}'));
  },
);

t.test('large and non-JSON answers stream untouched, never examined', async (t) => {
  const padding = 'p'.repeat(20 * 1024);
  const large = `{"errors":[{"code":"601"}],"padding":"${padding}"}`;
  for (const [what, shape] of [
    ['a body over 16 KiB (Content-Length)', { rejected: () => ({ body: large }) }],
    ['a chunked body that grows over 16 KiB', { rejected: () => ({ body: large }), chunked: 4096 }],
    [
      'text/plain',
      { rejected: () => ({ type: 'text/plain', body: '{"errors":[{"code":"601"}]}' }) },
    ],
  ] as [string, Shape][]) {
    const { up, proxy, url } = await rig(t, shape);
    const res = await get(`${url}/x`);
    t.equal(up.requests.length, 1, `${what}: not replayed`);
    t.equal(proxy.stub('mkto').rejections, 0, `${what}: not examined`);
    t.equal(res.body.toString(), shape.rejected!('').body.toString(), `${what}: passed on whole`);
  }
});

t.test('a streamed upload is not replayed, but the token is reported', async (t) => {
  const { up, proxy, url } = await rig(
    t,
    {},
    { refreshOnBody: MARKETO_RULE, replayBodyLimitBytes: 1024 },
  );
  const res = await get(`${url}/x`, {
    method: 'PUT',
    body: Readable.from([Buffer.alloc(4096, 'b')]),
  });
  t.equal(JSON.parse(res.body.toString()).success, false, 'the rejection passes through');
  t.equal(up.requests.length, 1);
  t.equal(proxy.stub('mkto').rejections, 1, 'so the next request gets a fresh token');
  t.equal(JSON.parse((await get(`${url}/x`)).body.toString()).success, true);
});

t.test('without RefreshOnBody nothing is held back or examined', async (t) => {
  const { up, proxy, url } = await rig(t, {}, {});
  const res = await get(`${url}/x`);
  t.equal(JSON.parse(res.body.toString()).success, false);
  t.equal(up.requests.length, 1);
  t.equal(proxy.stub('mkto').rejections, 0);
});
