import t from 'tap';
import { JsonUrlRewriter, MAX_URL_BYTES } from '../../../lib/proxy/forward/json-url-rewrite.js';
import type { LinkRewrite } from '../../../lib/proxy/forward/link-rewrite.js';

const gateway: LinkRewrite = {
  upstreamOrigin: 'https://graph.example.com',
  upstreamBasePath: '/v1.0',
  publicOrigin: 'http://127.0.0.1:8790',
  publicBasePath: '/graph',
};

/** `body` through a rewriter in pieces of `step` bytes, as text, with the count of rewrites. */
function run(
  body: string | Buffer,
  step = Infinity,
  r = gateway,
): { text: string; rewritten: number } {
  const rewriter = new JsonUrlRewriter(r);
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const out: Buffer[] = [];
  const size = Math.min(step, bytes.length || 1);
  for (let i = 0; i < bytes.length; i += size) out.push(rewriter.push(bytes.subarray(i, i + size)));
  out.push(rewriter.end());
  return { text: Buffer.concat(out).toString(), rewritten: rewriter.rewritten };
}

const page = JSON.stringify({
  '@odata.context': 'https://graph.example.com/v1.0/$metadata#users',
  '@odata.nextLink': 'https://graph.example.com/v1.0/users?$top=2&$skiptoken=X%2BY',
  value: [{ id: 1, web: 'https://www.example.org/a', other: 'https://graph.example.com/beta/x' }],
});

t.test(
  'upstream URLs under the base path become the gateway route; nothing else changes',
  async (t) => {
    const { text, rewritten } = run(page);
    t.same(JSON.parse(text), {
      '@odata.context': 'http://127.0.0.1:8790/graph/$metadata#users',
      '@odata.nextLink': 'http://127.0.0.1:8790/graph/users?$top=2&$skiptoken=X%2BY',
      value: [
        { id: 1, web: 'https://www.example.org/a', other: 'https://graph.example.com/beta/x' },
      ],
    });
    t.equal(rewritten, 2);
  },
);

t.test('the JSON-escaped form https:\\/\\/host\\/... is rewritten and stays escaped', async (t) => {
  const escaped = '{"next":"https:\\/\\/graph.example.com\\/v1.0\\/users?page=2","x":1}';
  const { text } = run(escaped);
  t.equal(text, '{"next":"http:\\/\\/127.0.0.1:8790\\/graph\\/users?page=2","x":1}');
  t.equal(JSON.parse(text).next, 'http://127.0.0.1:8790/graph/users?page=2');
});

t.test('a URL cut by a chunk boundary anywhere is still rewritten', async (t) => {
  const expected = run(page).text;
  const escaped = '{"a":"\\\\","next":"https:\\/\\/graph.example.com\\/v1.0\\/u?p=2"}';
  const escapedExpected = run(escaped).text;
  t.match(escapedExpected, /127\.0\.0\.1:8790/);
  for (let step = 1; step <= 24; step++) {
    t.equal(run(page, step).text, expected, `chunks of ${step}`);
    t.equal(run(escaped, step).text, escapedExpected, `escaped, chunks of ${step}`);
  }
  // every single cut point of a two-chunk body
  const bytes = Buffer.from(page);
  for (let cut = 1; cut < bytes.length; cut++) {
    const rewriter = new JsonUrlRewriter(gateway);
    const out = Buffer.concat([
      rewriter.push(bytes.subarray(0, cut)),
      rewriter.push(bytes.subarray(cut)),
      rewriter.end(),
    ]).toString();
    if (out !== expected) t.fail(`cut at ${cut}: ${out}`);
  }
});

t.test(
  'only strings that are URLs: not a URL inside text, not after an escaped quote',
  async (t) => {
    const body = JSON.stringify({
      note: 'see https://graph.example.com/v1.0/x for details',
      quoted: '"https://graph.example.com/v1.0/y"',
      key: { 'https://graph.example.com/v1.0/z': 1 },
    });
    const { text } = run(body, 3);
    const parsed = JSON.parse(text);
    t.equal(parsed.note, 'see https://graph.example.com/v1.0/x for details');
    t.equal(
      parsed.quoted,
      '"https://graph.example.com/v1.0/y"',
      'an escaped quote does not open a string',
    );
    t.same(
      Object.keys(parsed.key),
      ['http://127.0.0.1:8790/graph/z'],
      'a key that is a URL is one too',
    );
    const backslashes = '{"a":"\\\\\\"https://graph.example.com/v1.0/q"}';
    t.equal(run(backslashes, 1).text, backslashes, 'odd backslash runs across chunks');
  },
);

t.test('other origins, schemes and lookalike hosts stay as they are', async (t) => {
  const body = JSON.stringify([
    'http://graph.example.com/v1.0/a',
    'https://graph.example.com.evil.example/v1.0/a',
    'https://graph.example.com:8443/v1.0/a',
    'https://graph.example.com/v1.01/a',
  ]);
  t.equal(run(body).text, body);
  t.equal(
    run('["https://Graph.Example.COM/v1.0/a"]').text,
    '["http://127.0.0.1:8790/graph/a"]',
    'host names compare without case',
  );
});

t.test('credential query parameters never reach the client inside a body', async (t) => {
  const r: LinkRewrite = { ...gateway, credentialParams: ['access_token'] };
  const body =
    '{"next":"https://graph.example.com/v1.0/leads?nextPageToken=P&access_token=SECRET"}';
  t.equal(run(body, 5, r).text, '{"next":"http://127.0.0.1:8790/graph/leads?nextPageToken=P"}');
});

t.test(
  'what is held back is bounded: a string longer than the limit passes as it is',
  async (t) => {
    const long = `https://graph.example.com/v1.0/${'a'.repeat(3 * MAX_URL_BYTES)}`;
    const body = JSON.stringify({ long, next: 'https://graph.example.com/v1.0/n' });
    const { text } = run(body, 4096);
    t.equal(JSON.parse(text).long, long);
    t.equal(
      JSON.parse(text).next,
      'http://127.0.0.1:8790/graph/n',
      'and the scan goes on after it',
    );
  },
);

t.test('a chunk with no candidate is passed on as the same Buffer, uncopied', async (t) => {
  const rewriter = new JsonUrlRewriter(gateway);
  const chunk = Buffer.from('{"id":1,"name":"plain","url":"https://www.example.org/x"}');
  t.equal(rewriter.push(chunk), chunk);
});

t.test('non-ASCII in a URL is percent-encoded, as a client sends it anyway', async (t) => {
  const body = '{"n":"https://graph.example.com/v1.0/Zoë?q=Å"}';
  t.equal(run(body, 1).text, '{"n":"http://127.0.0.1:8790/graph/Zo%C3%AB?q=%C3%85"}');
});
