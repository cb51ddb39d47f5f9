import t from 'tap';
import { request } from 'undici';
import type { DsnConfig } from '../../lib/config/dsn.js';
import type { ExchangeEvent } from '../../lib/proxy/forward/exchange.js';
import { startServer } from '../../lib/proxy/server.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startUpstream, type Upstream } from '../fixtures/upstream.js';
import { curl } from './client-requests.js';
import { startProxy } from './proxy-harness.js';

/** An upstream whose `/slow` requests wait until released (in-flight requests on demand). */
async function holdingUpstream(
  t: Parameters<typeof startUpstream>[0],
): Promise<Upstream & { held(): Promise<void>; release(): void }> {
  const waiting: (() => void)[] = [];
  let arrived: (() => void) | undefined;
  const up = await startUpstream(t, {
    handler: (req, res) => {
      if (req.url !== '/slow') return void res.end('fast');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first half, ');
      waiting.push(() => res.end('second half'));
      arrived?.();
    },
  });
  t.teardown(() => waiting.forEach((f) => f()));
  return Object.assign(up, {
    held: () => new Promise<void>((resolve) => (arrived = resolve)),
    release: () => waiting.splice(0).forEach((f) => f()),
  });
}

/** POST /_tokenshim/reload as `tokenshim reload` sends it (the header no web page can add) */
const RELOAD = { method: 'POST', headers: { 'x-tokenshim-admin': '1' } } as const;

t.test(
  'GET /_tokenshim/health answers 200 {status: ok}; unknown admin routes 404; wrong method 405',
  async (t) => {
    const { server } = await startProxy(t, []);
    const health = await request(`${server.url}/_tokenshim/health`);
    t.equal(health.statusCode, 200);
    t.same(await health.body.json(), { status: 'ok' });
    const missing = await request(`${server.url}/_tokenshim/nope`);
    t.equal(missing.statusCode, 404);
    t.match(((await missing.body.json()) as { detail: string }).detail, '/_tokenshim/health');
    const wrong = await request(`${server.url}/_tokenshim/health`, { method: 'DELETE' });
    t.equal(wrong.statusCode, 405);
    t.equal(wrong.headers.allow, 'GET, HEAD');
    await wrong.body.dump();
  },
);

t.test(
  'adminRoutes lists every route tokenshim serves; a bare server answers health only',
  async (t) => {
    const { server } = await startProxy(t, []);
    t.same(
      server.adminRoutes.list().map((r) => r.path),
      ['health', 'ready', 'metrics', 'status', 'reload', 'refresh/', 'token/'],
    );
    const bare = await startServer({ dsns: [], port: 0, env: {} });
    t.teardown(() => bare.close({ drainMs: 0 }));
    const health = await request(`${bare.url}/_tokenshim/health`);
    t.equal(health.statusCode, 200);
    await health.body.dump();
    const reload = await request(`${bare.url}/_tokenshim/reload`, RELOAD);
    t.equal(reload.statusCode, 404);
    t.match(
      ((await reload.body.json()) as { detail: string }).detail,
      'there are /_tokenshim/health.',
    );
  },
);

t.test('admin routes are a table later code extends', async (t) => {
  const { server } = await startProxy(t, []);
  server.adminRoutes.add({
    method: 'GET',
    path: 'echo/',
    handle: ({ res, path, query }) => {
      res.end(`${path}|${query}`);
    },
  });
  const res = await request(`${server.url}/_tokenshim/echo/a/b?x=1`);
  t.equal(await res.body.text(), 'echo/a/b|x=1');
});

t.test(
  'reload: new DSNs appear, removed ones go, changed ones get a new provider, unchanged keep theirs',
  async (t) => {
    const up = await startUpstream(t);
    const a = makeDsn({ name: 'a', method: 54, upstream: new URL(up.origin) });
    const b = makeDsn({ name: 'b', method: 54, upstream: new URL(up.origin) });
    const c = makeDsn({ name: 'c', method: 54, upstream: new URL(up.origin) });
    let next: DsnConfig[] = [];
    const { server, stubs } = await startProxy(t, [a, b], { reloadConfig: async () => next });
    const stubA = stubs.get('a')!;
    const stubB = stubs.get('b')!;

    next = [
      { ...a, origins: new Map([['x', { source: 'moved.ini', line: 99, key: 'x' }]]) },
      { ...b, scope: 'new' },
      c,
    ];
    const res = await request(`${server.url}/_tokenshim/reload`, RELOAD);
    t.equal(res.statusCode, 200);
    t.same(await res.body.json(), {
      status: 'reloaded',
      added: ['c'],
      removed: [],
      changed: ['b'],
      unchanged: ['a'],
    });
    t.equal(server.provider('a'), stubA, 'a kept its provider (and its token)');
    t.not(server.provider('b'), stubB, 'b got a new provider');
    t.ok(stubB.closed, 'the old provider is closed (nothing was in flight)');
    const cRes = await request(`${server.url}/c/x`);
    t.equal(cRes.statusCode, 200);
    await cRes.body.dump();

    const removed = await server.reload([c]);
    t.same(removed, { added: [], removed: ['a', 'b'], changed: [], unchanged: ['c'] });
    const gone = await request(`${server.url}/a/x`);
    t.equal(gone.statusCode, 404);
    await gone.body.dump();
    t.ok(stubA.closed);
  },
);

t.test(
  'reload does not cut in-flight requests; the old provider closes when they end',
  async (t) => {
    const up = await holdingUpstream(t);
    const a = makeDsn({ name: 'a', method: 54, upstream: new URL(up.origin) });
    const { server, stubs } = await startProxy(t, [a]);
    const oldStub = stubs.get('a')!;
    const held = up.held();
    const pending = request(`${server.url}/a/slow`).then(async (r) => ({
      status: r.statusCode,
      body: await r.body.text(),
    }));
    await held;
    await server.reload([{ ...a, scope: 'changed' }]);
    t.notOk(oldStub.closed, 'still in use');
    t.not(server.provider('a'), oldStub);
    up.release();
    t.same(await pending, { status: 200, body: 'first half, second half' });
    await t.resolveMatch(
      new Promise<boolean>((resolve) => {
        const check = (): void => (oldStub.closed ? resolve(true) : void setImmediate(check));
        check();
      }),
      true,
      'closed after the request ended',
    );
  },
);

t.test(
  'reload without a config source: 501; only health is public to other machines',
  async (t) => {
    const { server } = await startProxy(t, []);
    const res = await request(`${server.url}/_tokenshim/reload`, RELOAD);
    t.equal(res.statusCode, 501);
    await res.body.dump();
    t.same(
      server.adminRoutes
        .list()
        .filter((r) => r.public)
        .map((r) => r.path),
      ['health'],
    );
  },
);

t.test(
  'a POST without X-Tokenshim-Admin is refused before anything happens (a form cannot add it)',
  async (t) => {
    let reloads = 0;
    const { server } = await startProxy(t, [], {
      reloadConfig: async () => {
        reloads++;
        return [];
      },
    });
    const bare = await curl(['-s', '-X', 'POST', `${server.url}/_tokenshim/reload`]);
    t.equal(bare.status, 403);
    t.match(JSON.parse(bare.body), {
      code: 'TOKENSHIM_ADMIN',
      detail:
        'POST /_tokenshim/reload needs the header X-Tokenshim-Admin: 1 (or X-Tokenshim-Admin-Key with an AdminKey): a web page cannot send it from another site.',
    });
    const form = await curl(['-s', '-d', 'x=1', `${server.url}/_tokenshim/reload`]);
    t.equal(form.status, 403, 'a form-encoded POST, as a form sends it');
    t.equal(reloads, 0);
    const asked = await curl([
      '-s',
      '-X',
      'POST',
      '-H',
      'X-Tokenshim-Admin: 1',
      `${server.url}/_tokenshim/reload`,
    ]);
    t.equal(asked.status, 200);
    t.equal(reloads, 1);
  },
);

t.test('a failing reload keeps the running configuration', async (t) => {
  const up = await startUpstream(t);
  const a = makeDsn({ name: 'a', upstream: new URL(up.origin) });
  const { server } = await startProxy(t, [a], {
    reloadConfig: async () => [
      makeDsn({ name: 'b', upstream: new URL(up.origin), trustStore: '/missing.pem' }),
    ],
  });
  const res = await request(`${server.url}/_tokenshim/reload`, RELOAD);
  t.equal(res.statusCode, 500);
  t.match(((await res.body.json()) as { detail: string }).detail, 'TrustStore /missing.pem');
  t.same(
    server.dsns().map((d) => d.name),
    ['a'],
  );
});

t.test('reload opens and closes dedicated ports', async (t) => {
  const up = await startUpstream(t);
  const probe = await startProxy(t, []);
  const port = probe.server.port;
  await probe.server.close({ drainMs: 0 });
  const a = makeDsn({ name: 'a', upstream: new URL(up.origin) });
  const { server } = await startProxy(t, [a]);
  await server.reload([{ ...a, listenPort: port }]);
  const res = await request(`http://127.0.0.1:${port}/x`);
  t.equal(res.statusCode, 200);
  await res.body.dump();
  await server.reload([a]);
  await t.rejects(request(`http://127.0.0.1:${port}/x`, { reset: true }), { code: 'ECONNREFUSED' });
});

t.test(
  'close drains: no new connections, in-flight requests finish, providers close',
  async (t) => {
    const up = await holdingUpstream(t);
    const { server, stubs } = await startProxy(t, [
      makeDsn({ name: 'a', method: 54, upstream: new URL(up.origin) }),
    ]);
    const held = up.held();
    const pending = request(`${server.url}/a/slow`).then(async (r) => ({
      status: r.statusCode,
      body: await r.body.text(),
    }));
    await held;
    t.equal(server.inFlight, 1);
    const closing = server.close({ drainMs: 60_000 });
    await t.rejects(
      request(`${server.url}/a/x`, { reset: true }),
      { code: 'ECONNREFUSED' },
      'new connections refused',
    );
    t.notOk(stubs.get('a')!.closed);
    up.release();
    t.same(await pending, { status: 200, body: 'first half, second half' });
    await closing;
    t.ok(stubs.get('a')!.closed);
  },
);

t.test('close with drainMs 0 cuts what is still in flight', async (t) => {
  const up = await holdingUpstream(t);
  const { server } = await startProxy(t, [
    makeDsn({ name: 'a', method: 54, upstream: new URL(up.origin) }),
  ]);
  const held = up.held();
  const pending = request(`${server.url}/a/slow`).then((r) => r.body.text());
  await held;
  const cut = t.rejects(pending);
  await server.close({ drainMs: 0 });
  await cut;
});

t.test(
  'with --allow-remote, a client on another address may read health but not reload',
  async (t) => {
    const { networkInterfaces } = await import('node:os');
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (external === undefined) {
      t.comment('skipped: this machine has no non-loopback IPv4 address');
      return;
    }
    const { server } = await startProxy(t, [], {
      host: '0.0.0.0',
      allowRemote: true,
      reloadConfig: async () => [],
    });
    const base = `http://${external}:${server.port}/_tokenshim`;
    const health = await request(`${base}/health`);
    t.equal(health.statusCode, 200, 'the listen address is an accepted Host');
    await health.body.dump();
    const reload = await request(`${base}/reload`, RELOAD);
    t.equal(reload.statusCode, 403);
    t.match(
      ((await reload.body.json()) as { detail: string }).detail,
      'only answered to clients on this machine',
    );
    const local = await request(`http://127.0.0.1:${server.port}/_tokenshim/reload`, RELOAD);
    t.equal(local.statusCode, 200);
    await local.body.dump();
  },
);

t.test(
  'the observer hears about every forwarded request: status, replay, upstream time',
  async (t) => {
    const events: ExchangeEvent[] = [];
    let accept = '';
    const up = await startUpstream(t, {
      handler: (req, res) => {
        res.writeHead(req.headers.authorization === accept ? 200 : 401);
        res.end();
      },
    });
    const { server, stub } = await startProxy(
      t,
      [makeDsn({ name: 'obs', method: 54, upstream: new URL(up.origin) })],
      {
        observer: { exchangeEnded: (e) => events.push(e) },
      },
    );
    accept = `Bearer ${stub('obs').currentToken}`;
    const first = await request(`${server.url}/obs/a?x=1`);
    await first.body.dump();
    accept = `Bearer ${stub('obs').tokenPrefix}-2`;
    const second = await request(`${server.url}/obs/b`, { method: 'POST', body: 'x' });
    await second.body.dump();
    await t.resolveMatch(
      new Promise<number>((resolve) => {
        const check = (): void =>
          events.length === 2 ? resolve(events.length) : void setImmediate(check);
        check();
      }),
      2,
    );
    t.match(events[0], {
      dsn: 'obs',
      method: 'GET',
      status: 200,
      replayed: false,
      path: '/obs/a?x=1',
    });
    t.match(events[1], { dsn: 'obs', method: 'POST', status: 200, replayed: true });
    t.type(events[0]!.upstreamSeconds, 'number');
    t.ok(events[0]!.durationSeconds >= events[0]!.upstreamSeconds!);
  },
);

t.test(
  'a response whose head comes during a drain closes its connection (no keep-alive to cut)',
  async (t) => {
    let arrived!: () => void;
    const arrivedUpstream = new Promise<void>((resolve) => (arrived = resolve));
    let answer!: () => void;
    const up = await startUpstream(t, {
      handler: (_req, res) => {
        answer = () => res.end('late');
        arrived();
      },
    });
    t.teardown(() => answer?.());
    const { server } = await startProxy(t, [makeDsn({ name: 'a', upstream: new URL(up.origin) })]);
    const pending = request(`${server.url}/a/x`).then(async (r) => ({
      status: r.statusCode,
      connection: r.headers.connection,
      body: await r.body.text(),
    }));
    await arrivedUpstream;
    const closing = server.close({ drainMs: 60_000 });
    answer();
    t.same(await pending, { status: 200, connection: 'close', body: 'late' });
    await closing;
  },
);
