import { Writable } from 'node:stream';
import t from 'tap';
import { createLogger } from '../../lib/log/logger.js';
import { pathWithoutQueryValues, scrubSecretsInText } from '../../lib/log/scrub-text.js';

function capture(): { lines: () => string; stream: Writable } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { lines: () => text, stream };
}

t.test('tokens in query strings, JSON and auth headers are blanked inside text', async (t) => {
  const cases: [string, string][] = [
    [
      'GET https://mkto.example/identity/oauth/token?grant_type=client_credentials&client_id=abc&client_secret=S3CRET-1',
      'GET https://mkto.example/identity/oauth/token?grant_type=client_credentials&client_id=abc&client_secret=[redacted]',
    ],
    [
      '/rest/v1/leads.json?access_token=tok-123456&batchSize=300',
      '/rest/v1/leads.json?access_token=[redacted]&batchSize=300',
    ],
    [
      '{"error":"x","refresh_token":"rt-998877","accessToken":"at-1"}',
      '{"error":"x","refresh_token":"[redacted]","accessToken":"[redacted]"}',
    ],
    [
      'upstream said: Authorization: Bearer eyJhbGciOi.xyz.abc',
      'upstream said: Authorization: Bearer [redacted]',
    ],
    ['callback?code=auth-code-1&state=s', 'callback?code=[redacted]&state=s'],
    ['nothing to hide here', 'nothing to hide here'],
  ];
  for (const [input, expected] of cases) t.equal(scrubSecretsInText(input), expected, input);
});

t.test('the access log keeps query names, never values', async (t) => {
  t.equal(
    pathWithoutQueryValues('/rest/v1/leads.json?filterType=email&access_token=tok-1&flag'),
    '/rest/v1/leads.json?filterType&access_token&flag',
  );
  t.equal(pathWithoutQueryValues('/plain/path'), '/plain/path');
  t.equal(pathWithoutQueryValues('/p?'), '/p');
});

t.test('the logger scrubs messages, fields, nested values and errors', async (t) => {
  const { lines, stream } = capture();
  const log = createLogger({ destination: stream, level: 'debug' });
  log.info(
    { url: 'https://x.example/a?access_token=tok-AAA111' },
    'called https://x.example/b?token=tok-BBB222',
  );
  log.warn({ nested: { list: ['Bearer tok-CCC3334444'] } }, 'nested');
  log.error({ err: new Error('failed GET /t?client_secret=sec-DDD444') }, 'boom');
  log.info(
    { clientSecret: 'sec-EEE555', headers: { authorization: 'Basic dXNlcjpwYXNzd29yZA==' } },
    'fields',
  );
  const out = lines();
  for (const secret of [
    'tok-AAA111',
    'tok-BBB222',
    'tok-CCC3334444',
    'sec-DDD444',
    'sec-EEE555',
    'dXNlcjpwYXNzd29yZA==',
  ]) {
    t.notMatch(out, secret, secret);
  }
  t.match(out, 'access_token=[redacted]');
  t.match(out, '"msg":"boom"');
  t.match(out, '"type":"Error"');
  t.equal(out.trim().split('\n').length, 4);
});
