/**
 * Every DSN on the gateway shares one origin (http://127.0.0.1:8790), so a cookie one upstream
 * sets with Path=/ would go, from any cookie-jar client, to every other DSN's upstream. tokenshim
 * scopes Set-Cookie to the DSN's gateway path and drops Domain. A real cookie jar: curl's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildResponseHead } from '../../lib/proxy/forward/response-headers.js';
import type { LinkRewrite } from '../../lib/proxy/forward/link-rewrite.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startUpstream } from '../fixtures/upstream.js';
import { curl } from './client-requests.js';
import { startProxy } from './proxy-harness.js';

t.test("a cookie-jar client never sends one DSN's cookies to another DSN", async (t) => {
  const up = await startUpstream(t, {
    handler: (req, res) => {
      if (req.url?.endsWith('/login')) {
        res.setHeader('set-cookie', [
          'sid=secret-session-of-a; Path=/; HttpOnly',
          'pref=1; Domain=127.0.0.1; Path=/a-api',
          'nopath=1',
        ]);
      }
      res.end(JSON.stringify({ cookie: req.headers.cookie ?? null }));
    },
  });
  const { server } = await startProxy(t, [
    makeDsn({ name: 'a', upstream: new URL(`${up.origin}/a-api`) }),
    makeDsn({ name: 'b', upstream: new URL(`${up.origin}/b-api`) }),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'tokenshim-cookies-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const jar = join(dir, 'jar.txt');
  const withJar = (path: string) => curl(['-s', '-c', jar, '-b', jar, `${server.url}${path}`]);

  await withJar('/a/login');
  const toB = await withJar('/b/data');
  t.same(JSON.parse(toB.body), { cookie: null }, "b's upstream gets none of a's cookies");
  const toA = await withJar('/a/data');
  t.match(
    JSON.parse(toA.body).cookie,
    /sid=secret-session-of-a/,
    "a's upstream still gets its session",
  );
  t.match(JSON.parse(toA.body).cookie, /pref=1/);
  t.match(JSON.parse(toA.body).cookie, /nopath=1/);
});

const gateway: LinkRewrite = {
  upstreamOrigin: 'https://api.example.com',
  upstreamBasePath: '/v1',
  publicOrigin: 'http://127.0.0.1:8790',
  publicBasePath: '/crm',
};
const dedicated: LinkRewrite = {
  ...gateway,
  publicOrigin: 'http://127.0.0.1:9001',
  publicBasePath: '',
};

function setCookie(value: string, r: LinkRewrite): string {
  return buildResponseHead(['Set-Cookie', value], () => r)[1]!;
}

t.test('Set-Cookie: Path mapped under /<DSN>, Domain dropped, the rest kept', async (t) => {
  const cases: [from: string, to: string][] = [
    ['sid=1; Path=/', 'sid=1; Path=/crm'],
    ['sid=1; path=/v1/reports; Secure; HttpOnly', 'sid=1; Path=/crm/reports; Secure; HttpOnly'],
    ['sid=1; Path=/v1', 'sid=1; Path=/crm'],
    // outside the base path: the whole DSN, no wider
    ['sid=1; Path=/v10', 'sid=1; Path=/crm'],
    // no Path: the default path of a request to /crm?x would be /
    ['sid=1', 'sid=1; Path=/crm'],
    ['sid=1; Path=relative', 'sid=1; Path=/crm'],
    ['sid=1; Domain=.example.com; Path=/v1/x; SameSite=Lax', 'sid=1; Path=/crm/x; SameSite=Lax'],
    ['sid="ab"; Max-Age=60', 'sid="ab"; Max-Age=60; Path=/crm'],
  ];
  for (const [from, to] of cases) t.equal(setCookie(from, gateway), to, from);
});

t.test(
  "Set-Cookie on a dedicated port: the port's paths (HostName's, minus its path), no Domain",
  async (t) => {
    t.equal(setCookie('sid=1; Domain=api.example.com; Path=/v1/x', dedicated), 'sid=1; Path=/x');
    t.equal(setCookie('sid=1; Path=/v1', dedicated), 'sid=1; Path=/');
    t.equal(setCookie('sid=1; Path=/elsewhere', dedicated), 'sid=1; Path=/');
    t.equal(setCookie('sid=1', dedicated), 'sid=1');
  },
);

t.test("Set-Cookie through the forward proxy: the API's paths, Domain dropped", async (t) => {
  const forward: LinkRewrite = {
    upstreamOrigin: 'https://api.example.com',
    upstreamBasePath: '',
    publicOrigin: 'http://api.example.com',
    publicBasePath: '',
  };
  // Domain=example.com would reach files.example.com, maybe another DSN's origin
  t.equal(setCookie('sid=1; Domain=example.com; Path=/v1', forward), 'sid=1; Path=/v1');
});
