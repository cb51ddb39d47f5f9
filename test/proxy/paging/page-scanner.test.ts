import t from 'tap';
import { PageScanner, type PageSummary } from '../../../lib/proxy/paging/page-scanner.js';

/** The page fed to a scanner in pieces of `step` bytes: its records as text, and the summary. */
function scan(
  page: string,
  records: string,
  next: string | undefined,
  step = Infinity,
): { records: string[]; summary: PageSummary } {
  const out: string[] = [];
  let current: Buffer[] | undefined;
  const scanner = new PageScanner(records, next, {
    begin: () => {
      if (current) throw new Error('begin inside a record');
      current = [];
    },
    bytes: (b) => current!.push(Buffer.from(b)),
    end: () => {
      out.push(Buffer.concat(current!).toString());
      current = undefined;
    },
  });
  const bytes = Buffer.from(page);
  const size = Math.min(step, bytes.length || 1);
  for (let i = 0; i < bytes.length; i += size) scanner.push(bytes.subarray(i, i + size));
  return { records: out, summary: scanner.end() };
}

const graphPage = JSON.stringify({
  '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users',
  '@odata.nextLink': 'https://graph.microsoft.com/v1.0/users?$skiptoken=abc',
  value: [
    { id: 1, name: 'a "quoted" \\ one' },
    { id: 2, tags: ['x', { y: [1, 2] }] },
    'str',
    12.5,
    null,
  ],
});

t.test('records are handed on byte for byte, whatever the chunk size', async (t) => {
  for (const step of [1, 2, 3, 7, 64, Infinity]) {
    const { records, summary } = scan(graphPage, 'value', '@odata.nextLink', step);
    t.same(
      records,
      [
        '{"id":1,"name":"a \\"quoted\\" \\\\ one"}',
        '{"id":2,"tags":["x",{"y":[1,2]}]}',
        '"str"',
        '12.5',
        'null',
      ],
      `step ${step}`,
    );
    t.equal(summary.next, 'https://graph.microsoft.com/v1.0/users?$skiptoken=abc');
    t.equal(summary.records, 5);
    t.ok(summary.recordsFound);
  }
});

t.test('numbers stay as written: no precision lost to a parse and stringify', async (t) => {
  const { records } = scan('{"data":[{"id":12345678901234567890,"p":1.50}]}', 'data', undefined);
  t.same(records, ['{"id":12345678901234567890,"p":1.50}']);
});

t.test(
  'pretty-printed pages: records keep their inner whitespace, not the gaps between them',
  async (t) => {
    const page = '{\n  "result": [\n    {\n      "a": 1\n    } ,\n    2\n  ]\n}\n';
    t.same(scan(page, 'result', undefined, 5).records, ['{\n      "a": 1\n    }', '2']);
  },
);

t.test('JSON paths: dotted keys, nesting, $ and $.', async (t) => {
  const qlik = JSON.stringify({
    data: [{ id: 'a' }],
    links: {
      self: { href: 'https://t/api/v1/items' },
      next: { href: 'https://t/api/v1/items?next=2' },
    },
  });
  t.equal(scan(qlik, 'data', 'links.next.href').summary.next, 'https://t/api/v1/items?next=2');
  t.equal(scan(qlik, '$.data', '$.links.next.href').records.length, 1);
  t.same(scan('[1,2,3]', '$', undefined, 1).records, ['1', '2', '3']);
  const both = '{"a":{"b":"nested"},"a.b":"whole key"}';
  t.equal(
    scan(`{"r":[],${both.slice(1)}`, 'r', 'a.b').summary.next,
    'whole key',
    'the whole key wins',
  );
  t.equal(
    scan('{"r":[],"a.b":{"c":"via dotted"},"a":{"b":{"c":"via both"}}}', 'r', 'a.b.c').summary.next,
    'via dotted',
    'fewer keys used wins',
  );
  t.same(scan('{"page":{"items":[{"k":1}]}}', 'page.items', undefined).records, ['{"k":1}']);
  t.equal(scan('{"r":[],"cursor":12345}', 'r', 'cursor').summary.next, '12345', 'a numeric cursor');
  t.equal(
    scan('{"r":[],"\\u0040odata.nextLink":"u"}', 'r', '@odata.nextLink').summary.next,
    'u',
    'escaped keys',
  );
});

t.test('no next: absent, null or empty', async (t) => {
  for (const page of ['{"r":[1]}', '{"r":[1],"n":null}', '{"r":[1],"n":""}'])
    t.equal(scan(page, 'r', 'n').summary.next, undefined, page);
});

t.test('records missing or null', async (t) => {
  const missing = scan('{"success":true,"warnings":["No assets found"]}', 'result', undefined);
  t.equal(missing.summary.recordsFound, false);
  t.same(missing.summary.topKeys, ['success', 'warnings']);
  const nul = scan('{"result":null}', 'result', undefined);
  t.ok(nul.summary.recordsFound);
  t.equal(nul.summary.records, 0);
  t.equal(scan('{"r":[]}', 'r', undefined).summary.records, 0);
  t.same(
    scan('{"x":{"r":[9]},"r":[1]}', 'r', undefined).records,
    ['1'],
    'only the path, not a same-named key deeper',
  );
  t.same(scan('{"r":[[1,2],[3]]}', 'r', undefined).records, ['[1,2]', '[3]'], 'arrays of arrays');
});

t.test(
  'pages that are not what the settings say, or not JSON, are refused with where and why',
  async (t) => {
    t.throws(
      () => scan('{"r":{"a":1}}', 'r', undefined),
      /records path names an object, not an array/,
    );
    t.throws(() => scan('{"r":"x"}', 'r', undefined), /records path names a string/);
    t.throws(() => scan('{"r":[],"n":{"href":"x"}}', 'r', 'n'), /next value is an object/);
    t.throws(() => scan('{"r":[],"n":true}', 'r', 'n'), /next value is true/);
    t.throws(() => scan('<html>login</html>', 'r', undefined), /not valid JSON: "<" at byte 0/);
    t.throws(
      () => scan('{"r":[1,2', 'r', undefined),
      /ended before its JSON did \(after 9 bytes\)/,
    );
    t.throws(() => scan('', 'r', undefined), /the page is empty/);
    t.throws(
      () => scan('{"r":[1]} x', 'r', undefined),
      /"x" at byte 10, after the end of the JSON/,
    );
    t.throws(() => scan('{"r" [1]}', 'r', undefined), /where ":" belongs/);
    t.throws(() => scan('{"r":[1 2]}', 'r', undefined), /where "," or the end/);
    t.throws(
      () => scan(`{"r":[],"n":"${'x'.repeat(70_000)}"}`, 'r', 'n', 1000),
      /longer than 65536 bytes/,
    );
  },
);

t.test(
  'a UTF-8 byte order mark is skipped; multi-byte characters split across chunks survive',
  async (t) => {
    const page = `\ufeff${JSON.stringify({ r: ['Zoë Ångström 😀'], n: 'ü' })}`;
    const { records, summary } = scan(page, 'r', 'n', 1);
    t.same(records, ['"Zoë Ångström 😀"']);
    t.equal(summary.next, 'ü');
  },
);
