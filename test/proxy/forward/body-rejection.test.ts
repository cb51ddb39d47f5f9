import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import t from 'tap';
import type { BodyCondition } from '../../../lib/config/dsn.js';
import {
  BODY_INSPECTION,
  HeldAnswer,
  conditionText,
  inspectableCoding,
} from '../../../lib/proxy/forward/body-rejection.js';
import type { ContentCoding } from '../../../lib/proxy/forward/content-decoding.js';

function held(body: string | Buffer, coding: ContentCoding = 'identity'): HeldAnswer {
  const h = new HeldAnswer(200, 'OK', [], [], coding);
  h.add(Buffer.from(body));
  return h;
}

const marketo: BodyCondition[] = [{ path: 'errors.code', values: ['601', '602'] }];

t.test('conditions are met by any element of the arrays on the path', async (t) => {
  const cases: [string, BodyCondition[], string | undefined][] = [
    ['{"success":false,"errors":[{"code":"601"}]}', marketo, 'errors.code=601,602'],
    ['{"errors":[{"code":"1003"},{"code":"602"}]}', marketo, 'errors.code=601,602'],
    ['{"errors":[{"code":602}]}', marketo, 'errors.code=601,602'],
    ['{"errors":[]}', marketo, undefined],
    ['{"success":true,"result":[{"code":"601"}]}', marketo, undefined],
    ['{"errors":{"code":"601"}}', marketo, 'errors.code=601,602'],
    ['{"errors":[[{"code":"601"}]]}', marketo, 'errors.code=601,602'],
    ['[{"errors":[{"code":"601"}]}]', marketo, 'errors.code=601,602'],
    ['{"errors":["601"]}', [{ path: 'errors', values: ['601'] }], 'errors=601'],
    ['{"ok":false}', [{ path: 'ok', values: ['false'] }], 'ok=false'],
    [
      '{"@odata.error":{"code":"InvalidAuthenticationToken"}}',
      [{ path: '@odata.error.code', values: ['InvalidAuthenticationToken'] }],
      '@odata.error.code=InvalidAuthenticationToken',
    ],
    ['{"errors":[{"code":"601"}]', marketo, undefined],
    ['not json at all', marketo, undefined],
    ['', marketo, undefined],
  ];
  for (const [body, conditions, expected] of cases) {
    const found = held(body).rejection(conditions);
    t.equal(found && conditionText(found), expected, body);
  }
});

t.test('the first condition met is the one named', async (t) => {
  const conditions: BodyCondition[] = [
    { path: 'error.code', values: ['expired'] },
    { path: 'errors.code', values: ['601'] },
  ];
  t.equal(held('{"errors":[{"code":"601"}]}').rejection(conditions), conditions[1]);
});

t.test('compressed bodies are decoded first; a bad one meets nothing', async (t) => {
  const body = '{"errors":[{"code":"602"}]}';
  for (const [coding, bytes] of [
    ['gzip', gzipSync(body)],
    ['deflate', deflateSync(body)],
    ['deflate', deflateRawSync(body)],
    ['br', brotliCompressSync(body)],
  ] as [ContentCoding, Buffer][]) {
    t.ok(held(bytes, coding).rejection(marketo), `${coding} (${bytes[0]})`);
  }
  t.equal(held(Buffer.from('not gzip'), 'gzip').rejection(marketo), undefined);
});

t.test('only small 2xx JSON answers are examined', async (t) => {
  const json = ['content-type', 'application/json; charset=utf-8'];
  t.equal(inspectableCoding('GET', 200, json), 'identity');
  t.equal(inspectableCoding('GET', 200, [...json, 'content-encoding', 'gzip']), 'gzip');
  t.equal(inspectableCoding('GET', 200, [...json, 'Content-Length', '512']), 'identity');
  t.equal(
    inspectableCoding('GET', 200, [
      ...json,
      'Content-Length',
      String(BODY_INSPECTION.maxBytes + 1),
    ]),
    undefined,
    'too long to hold back',
  );
  t.equal(inspectableCoding('GET', 200, ['content-type', 'text/plain']), undefined, 'not JSON');
  t.equal(inspectableCoding('HEAD', 200, json), undefined, 'no body');
  t.equal(inspectableCoding('GET', 204, json), undefined, 'no body');
  t.equal(inspectableCoding('GET', 200, [...json, 'content-encoding', 'zstd']), undefined);
});

t.test('add() says when the body grows past what is examined', async (t) => {
  const h = new HeldAnswer(200, 'OK', [], [], 'identity');
  t.ok(h.add(Buffer.alloc(BODY_INSPECTION.maxBytes - 1)));
  t.ok(h.add(Buffer.alloc(1)));
  t.notOk(h.add(Buffer.alloc(1)));
  t.equal(h.body().length, BODY_INSPECTION.maxBytes + 1, 'every byte is kept to be passed on');
});
