import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startUpstream } from '../fixtures/upstream.js';
import { curl } from './client-requests.js';
import { startProxy } from './proxy-harness.js';

// Qlik's REST connector has an "Expect: 100-continue" checkbox. tokenshim answers the expectation
// itself and never forwards the header (undici refuses it); the body still arrives whole, with the
// credential.

t.test(
  'curl with Expect: 100-continue: small (buffered) and large (streamed) uploads',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenshim-expect-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const up = await startUpstream(t);
    const { server, stub } = await startProxy(t, [
      makeDsn({ name: 'qlik', method: 54, upstream: new URL(up.origin) }),
    ]);
    for (const size of [10_000, 3 * 1024 * 1024]) {
      const file = join(dir, `body-${size}`);
      const bytes = randomBytes(size);
      writeFileSync(file, bytes);
      const res = await curl([
        '-X',
        'POST',
        '-H',
        'Expect: 100-continue',
        '-H',
        'Content-Type: application/octet-stream',
        '--data-binary',
        `@${file}`,
        `${server.url}/qlik/upload`,
      ]);
      t.equal(res.status, 200, `${size} bytes: ${res.stderr}`);
      const got = up.requests.at(-1)!;
      t.equal(got.bodyBytes, size);
      t.ok(got.body.equals(bytes), 'the body arrived byte for byte');
      t.notOk(got.headers.expect, 'Expect is not forwarded');
      t.equal(got.headers.authorization, `Bearer ${stub('qlik').currentToken}`);
    }
  },
);

t.test('node http waits for our 100 Continue before sending the body', async (t) => {
  const up = await startUpstream(t);
  const { server } = await startProxy(t, [
    makeDsn({ name: 'qlik', method: 54, upstream: new URL(up.origin) }),
  ]);
  const outcome = await new Promise<{ continued: boolean; status: number }>((resolve, reject) => {
    let continued = false;
    const req = httpRequest(`${server.url}/qlik/up`, {
      method: 'PUT',
      headers: { expect: '100-continue', 'content-length': '5' },
      agent: false,
    });
    req.on('continue', () => {
      continued = true;
      req.end('hello');
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ continued, status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.flushHeaders();
  });
  t.same(outcome, { continued: true, status: 200 });
  t.equal(up.requests[0]!.body.toString(), 'hello');
});

t.test('a request tokenshim refuses is answered before the body is sent (no 100)', async (t) => {
  const up = await startUpstream(t);
  const { server, stub } = await startProxy(t, [
    makeDsn({ name: 'qlik', method: 54, upstream: new URL(up.origin) }),
  ]);
  stub('qlik').failWith(new Error('token engine down'));
  for (const path of ['/nope/up', '/qlik/up']) {
    const outcome = await new Promise<{ continued: boolean; status: number }>((resolve, reject) => {
      let continued = false;
      const req = httpRequest(`${server.url}${path}`, {
        method: 'POST',
        headers: { expect: '100-continue', 'content-length': '5' },
        agent: false,
      });
      req.on('continue', () => (continued = true));
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          resolve({ continued, status: res.statusCode ?? 0 });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    t.same(outcome, { continued: false, status: path === '/nope/up' ? 404 : 502 }, path);
  }
  t.equal(up.requests.length, 0);
});
