import t from 'tap';
import { request } from 'undici';
import * as declared from '../lib/index.js';
import { tempDir } from './fixtures/temp-config.js';
import { startUpstream } from './fixtures/upstream.js';

// the package's own name, as an embedder imports it ("exports" in package.json)
const PACKAGE = 'tokenshim';

t.test('the package name resolves to lib/index.ts and nothing else under dist/lib', async (t) => {
  const viaName = (await import(PACKAGE)) as Record<string, unknown>;
  t.same(Object.keys(viaName).sort(), Object.keys(declared).sort());
  t.same(Object.keys(viaName).sort(), [
    'TokenshimError',
    'createLogger',
    'formatProblem',
    'hasErrors',
    'loadConfig',
    'startTokenshim',
  ]);
  // Node's resolver puts the reason in `code`; under tap's module-mock loader, resolve-import
  // may throw it with the reason in the message only
  const refused = await import(`${PACKAGE}/dist/lib/proxy/server.js`).then(
    () => undefined,
    (err: unknown) => err as { code?: string; message?: string },
  );
  t.match(
    `${refused?.code ?? ''} ${refused?.message ?? ''}`,
    /ERR_PACKAGE_PATH_NOT_EXPORTED/,
    'a path under dist/lib is not importable by the package name',
  );
  const pkg = (await import(`${PACKAGE}/package.json`, { with: { type: 'json' } })) as {
    default: { name: string };
  };
  t.equal(pkg.default.name, PACKAGE);
});

t.test('the recipe in lib/index.ts: loadConfig, startTokenshim, a request, close', async (t) => {
  const up = await startUpstream(t);
  const { write } = tempDir(t);
  const configPath = write(
    'odbc.ini',
    [
      '[api]',
      'AuthenticationMethod=34',
      'SecurityToken=st-0123456789',
      `HostName=${up.origin}/v1`,
      '',
    ].join('\n'),
  );
  const { loadConfig, hasErrors, formatProblem, startTokenshim } = declared;
  const { dsns, problems } = await loadConfig({ configPath });
  t.notOk(hasErrors(problems), problems.map(formatProblem).join('\n'));
  const server = await startTokenshim({ dsns, port: 0, env: {}, processMetrics: false });
  t.teardown(() => server.close({ drainMs: 0 }));
  const res = await request(`${server.url}/api/items`);
  t.equal(res.statusCode, 200);
  await res.body.dump();
  t.equal(up.requests[0]?.url, '/v1/items');
  t.equal(up.requests[0]?.headers.authorization, 'Bearer st-0123456789');
  const metrics = await request(`${server.url}/_tokenshim/metrics`);
  t.match(
    await metrics.body.text(),
    /tokenshim_requests_total\{dsn="api",method="GET",status_class="2xx"\} 1/,
  );
});
