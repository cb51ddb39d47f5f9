import t from 'tap';
import type { AttachedCredential } from '../../../lib/auth/credential.js';
import {
  buildRequestHead,
  replaceCredentialHeaders,
} from '../../../lib/proxy/forward/request-headers.js';

const cred: AttachedCredential = {
  headers: [['Authorization', 'Bearer new']],
  query: [],
  accessToken: 'new',
};
const base = {
  credential: cred,
  stripAuthorization: true,
  upstreamHost: 'api.example.com',
  clientProto: 'http' as const,
  clientAddress: '127.0.0.1',
};

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

t.test(
  'one pass: hop-by-hop and X-Tokenshim-* out, Host replaced, credential set once, X-Forwarded-* added',
  async (t) => {
    const head = buildRequestHead(
      // prettier-ignore
      [
      'Host', '127.0.0.1:8790',
      'Connection', 'keep-alive, X-Secret-Hop',
      'X-Secret-Hop', '1',
      'Authorization', 'Bearer client',
      'authorization', 'Bearer twice',
      'Content-Length', '12',
      'X-Forwarded-For', '10.1.1.1',
      'X-Forwarded-Proto', 'https',
      'X-Tokenshim-User', 'alice',
      'X-Tokenshim-Admin-Key', 'admin-key-0123456789abcdef',
      'X-TOKENSHIM-KEY', 'client-key-0123456789abcdef',
      'x-tokenshim-admin', '1',
      'Accept', 'application/json',
    ],
      base,
    );
    t.same(pairs(head.headers), [
      ['Content-Length', '12'],
      ['Accept', 'application/json'],
      ['host', 'api.example.com'],
      ['Authorization', 'Bearer new'],
      ['x-forwarded-for', '10.1.1.1, 127.0.0.1'],
      ['x-forwarded-proto', 'http'],
      ['x-forwarded-host', '127.0.0.1:8790'],
    ]);
    t.equal(head.contentLength, 12);
    t.equal(head.hasBody, true);
  },
);

t.test('bodies: none, chunked, Content-Length: 0', async (t) => {
  t.equal(buildRequestHead(['Host', 'x'], base).hasBody, false);
  t.equal(buildRequestHead(['Transfer-Encoding', 'chunked'], base).hasBody, true);
  const empty = buildRequestHead(['Content-Length', '0'], base);
  t.equal(empty.hasBody, false);
  t.equal(empty.contentLength, 0);
});

t.test('static credentials leave the client Authorization alone when not stripping', async (t) => {
  const head = buildRequestHead(['Authorization', 'Bearer client'], {
    ...base,
    stripAuthorization: false,
    credential: { headers: [['X-Api-Key', 'k']], query: [] },
  });
  t.same(pairs(head.headers).slice(0, 3), [
    ['Authorization', 'Bearer client'],
    ['host', 'api.example.com'],
    ['X-Api-Key', 'k'],
  ]);
});

t.test('the replay swaps the credential headers and nothing else', async (t) => {
  const first = buildRequestHead(['Accept', '*/*'], base).headers;
  const next: AttachedCredential = {
    headers: [['Authorization', 'Bearer newer']],
    query: [],
    accessToken: 'newer',
  };
  const swapped = replaceCredentialHeaders(first, cred, next);
  t.equal(pairs(swapped).filter(([n]) => n.toLowerCase() === 'authorization').length, 1);
  t.same(pairs(swapped).at(-1), ['Authorization', 'Bearer newer']);
  t.same(pairs(swapped)[0], ['Accept', '*/*']);
});
