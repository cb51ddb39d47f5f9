import t from 'tap';
import type { LinkRewrite } from '../../../lib/proxy/forward/link-rewrite.js';
import { buildResponseHead } from '../../../lib/proxy/forward/response-headers.js';

const REWRITE: LinkRewrite = {
  upstreamOrigin: 'https://api.example.com',
  upstreamBasePath: '/v1',
  publicOrigin: 'http://127.0.0.1:8790',
  publicBasePath: '/crm',
};
const rewrite = (): LinkRewrite => REWRITE;

/** Raw headers as undici hands them over: Buffers cut from the bytes of one response head. */
function rawHead(fields: readonly [string, string][]): Buffer[] {
  const wire = Buffer.from(
    `HTTP/1.1 200 OK\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`,
    'latin1',
  );
  const raw: Buffer[] = [];
  let at = 0;
  for (const [name, value] of fields) {
    const start = wire.indexOf(`${name}: `, at, 'latin1');
    const valueStart = start + name.length + 2;
    raw.push(wire.subarray(start, start + name.length));
    raw.push(wire.subarray(valueStart, valueStart + Buffer.byteLength(value, 'latin1')));
    at = valueStart;
  }
  return raw;
}

/** what every answer gets after the upstream's fields */
const SANDBOX: [string, string] = ['content-security-policy', 'sandbox'];

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

t.test('names go out spelled as the upstream sent them, common or not', async (t) => {
  const fields: [string, string][] = [
    ['content-type', 'application/json'],
    ['Content-Length', '2'],
    ['ETag', '"v1"'],
    ['Etag', '"v2"'],
    ['CONTENT-TYPE', 'text/plain'],
    ['content-Type', 'text/csv'],
    ['Content-Typf', 'not a known name'],
    ['X-Custom-Thing', 'kept'],
    ['Sforce-Limit-Info', 'api-usage=25/15000'],
    ['Date', 'Sat, 29 Nov 2026 20:00:00 GMT'],
    ['Vary', 'Accept-Encoding'],
    ['X-Caf\u00e9', 'caf\u00e9 latin1'],
  ];
  t.same(pairs(buildResponseHead(rawHead(fields), rewrite)), [...fields, SANDBOX]);
});

t.test('hop-by-hop fields go in any spelling, with those Connection names', async (t) => {
  const head = buildResponseHead(
    rawHead([
      ['Connection', 'keep-alive, X-Hop'],
      ['KEEP-ALIVE', 'timeout=5'],
      ['transfer-encoding', 'chunked'],
      ['Transfer-Encoding', 'chunked'],
      ['x-hop', 'gone'],
      ['Proxy-Authenticate', 'Basic'],
      ['Upgrade', 'h2c'],
      ['Content-Type', 'application/json'],
    ]),
    rewrite,
  );
  t.same(pairs(head), [['Content-Type', 'application/json'], SANDBOX]);
});

t.test('Location, Content-Location and Link point back at the client route', async (t) => {
  const head = buildResponseHead(
    rawHead([
      ['location', 'https://api.example.com/v1/accounts/7'],
      ['Content-Location', 'https://api.example.com/v1/accounts/7'],
      ['Link', '<https://api.example.com/v1/accounts?page=2>; rel="next"'],
    ]),
    rewrite,
  );
  t.same(pairs(head), [
    ['location', 'http://127.0.0.1:8790/crm/accounts/7'],
    ['Content-Location', 'http://127.0.0.1:8790/crm/accounts/7'],
    ['Link', '<http://127.0.0.1:8790/crm/accounts?page=2>; rel="next"'],
    SANDBOX,
  ]);
});

t.test('string raw headers are taken as they are', async (t) => {
  t.same(buildResponseHead(['Content-Type', 'a/b', 'Connection', 'close'], rewrite), [
    'Content-Type',
    'a/b',
    ...SANDBOX,
  ]);
});

t.test(
  "the upstream's CORS fields go; an AllowedOrigins origin gets tokenshim's own; a sandbox always",
  async (t) => {
    const raw = rawHead([
      ['Access-Control-Allow-Origin', '*'],
      ['Content-Type', 'text/html'],
      ['Content-Security-Policy', "default-src 'self'"],
    ]);
    t.same(pairs(buildResponseHead(raw, rewrite)), [
      ['Content-Type', 'text/html'],
      ['Content-Security-Policy', "default-src 'self'"],
      SANDBOX,
    ]);
    t.same(pairs(buildResponseHead(raw, rewrite, 'https://qlik.example.com')), [
      ['Content-Type', 'text/html'],
      ['Content-Security-Policy', "default-src 'self'"],
      ['access-control-allow-origin', 'https://qlik.example.com'],
      ['access-control-expose-headers', '*'],
      ['vary', 'Origin'],
      SANDBOX,
    ]);
  },
);

t.test('common names are matched without decoding them: only values are', async (t) => {
  const raw = rawHead([
    ['Content-Type', 'application/json'],
    ['content-length', '2'],
    ['Date', 'Sat, 29 Nov 2026 20:00:00 GMT'],
    ['Connection', 'keep-alive'],
    ['Keep-Alive', 'timeout=60'],
    ['X-Unusual', 'decoded'],
  ]);
  const decoded: string[] = [];
  const toString = Buffer.prototype.toString;
  Buffer.prototype.toString = function (this: Buffer, ...args: Parameters<Buffer['toString']>) {
    const s = toString.apply(this, args);
    decoded.push(s);
    return s;
  };
  try {
    buildResponseHead(raw, rewrite);
  } finally {
    Buffer.prototype.toString = toString;
  }
  t.same(decoded, [
    'application/json',
    '2',
    'Sat, 29 Nov 2026 20:00:00 GMT',
    'keep-alive',
    'X-Unusual',
    'decoded',
  ]);
});
