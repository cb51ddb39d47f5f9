import { PassThrough } from 'node:stream';
import t from 'tap';
import { request } from 'undici';
import { describeRoutes, runServe, type ServeIo } from '../../lib/cli/serve.js';
import { loadConfig } from '../../lib/config/load.js';
import type { TokenshimServer } from '../../lib/proxy/server.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { runInProcess, type RunningCommand } from '../fixtures/run-in-process.js';
import { utf16WithBom } from '../fixtures/regedit-export.js';
import { openRaw, statusOf } from '../fixtures/raw-client.js';
import { tempDir } from '../fixtures/temp-config.js';
import { startUpstream } from '../fixtures/upstream.js';

function serve(
  t: Parameters<typeof tempDir>[0],
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  extra: Pick<ServeIo, 'platform'> = {},
): RunningCommand {
  return runInProcess(t, runServe, argv, { env, ...extra });
}

t.test(
  'serve --config: one line per DSN with its URL, requests forwarded, SIGTERM exits 0',
  async (t) => {
    const up = await startUpstream(t);
    const dir = tempDir(t);
    const ini = dir.write(
      'odbc.ini',
      `[marketo]\nAuthenticationMethod=25\nHostName=${up.origin}/rest/v1\nAuthHeader=X-Api-Key\nSecurityToken=static-secret-token-value\n\n` +
        `[plain]\nAuthenticationMethod=15\nHostName=${up.origin}\n`,
    );
    const run = serve(t, ['--config', ini, '--port', '0', '--log-level', 'silent']);
    const server = await run.listening;
    t.ok(server, run.err());
    const url = server!.url;
    t.match(run.out(), `tokenshim listening on ${url}`);
    t.match(run.out(), new RegExp(`marketo\\s+${url}/marketo/ -> ${up.origin}/rest/v1`));
    t.match(run.out(), new RegExp(`plain\\s+${url}/plain/ -> ${up.origin}`));
    t.notMatch(run.out() + run.err(), 'static-secret-token-value');

    const res = await request(`${url}/marketo/leads`);
    t.equal(res.statusCode, 200);
    await res.body.dump();
    t.equal(up.requests[0]!.url, '/rest/v1/leads');
    t.equal(up.requests[0]!.headers['x-api-key'], 'static-secret-token-value');

    run.signals.emit('SIGTERM');
    t.equal(await run.exit, 0);
    await t.rejects(request(`${url}/_tokenshim/health`, { reset: true }), { code: 'ECONNREFUSED' });
  },
);

t.test(
  'a registry DSN named "Marketo Prod": the startup line prints its percent-encoded URL, which works',
  async (t) => {
    const up = await startUpstream(t);
    const dir = tempDir(t);
    const reg = dir.write(
      'dsns.reg',
      utf16WithBom(
        [
          'Windows Registry Editor Version 5.00',
          '',
          '[HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\Marketo Prod]',
          '"AuthenticationMethod"="25"',
          '"AuthHeader"="X-Api-Key"',
          '"SecurityToken"="static-secret-token-value"',
          `"HostName"="${up.origin}/rest/v1"`,
          '',
        ].join('\r\n'),
      ),
    );
    const run = serve(t, ['--config', reg, '--port', '0', '--log-level', 'silent']);
    const server = await run.listening;
    t.ok(server, run.err());
    const url = server!.url;
    t.match(run.out(), `Marketo Prod  ${url}/Marketo%20Prod/ -> ${up.origin}/rest/v1`);

    const res = await request(`${url}/Marketo%20Prod/leads?x=1`);
    t.equal(res.statusCode, 200);
    await res.body.dump();
    t.equal(up.requests[0]!.url, '/rest/v1/leads?x=1');
    t.equal(up.requests[0]!.headers['x-api-key'], 'static-secret-token-value');
  },
);

t.test('SIGHUP reloads the file: a new DSN appears', async (t) => {
  const up = await startUpstream(t);
  const dir = tempDir(t);
  const ini = dir.write('odbc.ini', `[one]\nHostName=${up.origin}\n`);
  const run = serve(t, ['--config', ini, '--port', '0', '--log-level', 'silent']);
  const server = (await run.listening)!;
  dir.write('odbc.ini', `[one]\nHostName=${up.origin}\n\n[two]\nHostName=${up.origin}/two\n`);
  run.signals.emit('SIGHUP');
  await t.resolveMatch(
    new Promise<string[]>((resolve) => {
      const check = (): void => {
        const names = server.dsns().map((d) => d.name);
        if (names.length === 2) resolve(names);
        else setImmediate(check);
      };
      check();
    }),
    ['one', 'two'],
  );
  const res = await request(`${server.url}/two/x`);
  await res.body.dump();
  t.equal(up.requests[0]!.url, '/two/x');
});

t.test('serve --connect: one DSN from a connection string', async (t) => {
  const up = await startUpstream(t);
  const run = serve(t, [
    '--connect',
    `AuthenticationMethod=15;HostName=${up.origin}`,
    '--port',
    '0',
    '--log-level',
    'silent',
  ]);
  const server = await run.listening;
  t.ok(server, run.err());
  t.match(run.out(), /listening on/);
  t.equal(server!.dsns().length, 1);
});

t.test('configuration errors: every problem on stderr, exit 2, nothing listens', async (t) => {
  const dir = tempDir(t);
  const ini = dir.write('odbc.ini', `[bad]\nAuthenticationMethod=54\nHostName=not a url at all\n`);
  const run = serve(t, ['--config', ini, '--port', '0']);
  t.equal(await run.exit, 2);
  t.match(run.err(), /\[bad\]/);
  t.ok(
    run
      .err()
      .split('\n')
      .filter((l) => l.includes('error')).length >= 2,
    run.err(),
  );
  t.equal(run.out(), '');
});

t.test('usage errors: reported once on stderr with a pointer to --help, exit 2', async (t) => {
  const dir = tempDir(t);
  const ini = dir.write('odbc.ini', `[one]\nHostName=http://127.0.0.1:9\n`);
  const cases: [string[], RegExp][] = [
    [['--connect', 'HostName=x'], /cannot be used together/],
    [['--port', '99999'], /--port 99999 is not a whole number/],
    [['--host', '0.0.0.0'], /--allow-remote/],
    [['--log-level', 'loud'], /--log-level loud/],
    [['--client-headers-timeout', '0'], /--client-headers-timeout 0 is not a whole number from 1/],
    [['--client-idle-timeout', 'soon'], /--client-idle-timeout soon is not a whole number/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['extra'], /takes no arguments \(got extra\)/],
  ];
  for (const [args, message] of cases) {
    const run = serve(t, ['--config', ini, ...args]);
    t.equal(await run.exit, 2, args.join(' '));
    t.match(run.err(), message, args.join(' '));
    t.match(run.err(), /^tokenshim serve: .*\nRun tokenshim serve --help for its options\.\n$/);
    t.equal(run.out(), '');
  }
});

t.test(
  '--client-headers-timeout and --client-idle-timeout reach the listeners (in seconds)',
  async (t) => {
    const up = await startUpstream(t);
    const dir = tempDir(t);
    const ini = dir.write('odbc.ini', `[plain]\nHostName=${up.origin}\n`);
    const run = serve(t, [
      ...['--config', ini, '--port', '0', '--log-level', 'silent'],
      ...['--client-headers-timeout', '1', '--client-idle-timeout', '90'],
    ]);
    const server = await run.listening;
    t.ok(server, run.err());
    t.same(server!.clientTimeouts, { headersMs: 1000, idleMs: 90_000 });
    const silent = await openRaw(server!.port);
    t.teardown(() => silent.socket.destroy());
    await silent.closed;
    t.equal(statusOf(silent.received()), 408, 'a connection that says nothing is closed');
    const res = await request(`${server!.url}/plain/x`);
    await res.body.dump();
    t.equal(res.headers['keep-alive'], 'timeout=90');
  },
);

t.test('without the flags, clients get 30 s for headers and 65 s of silence', async (t) => {
  const dir = tempDir(t);
  const ini = dir.write('odbc.ini', '[plain]\nHostName=http://127.0.0.1:9\n');
  const run = serve(t, ['--config', ini, '--port', '0', '--log-level', 'silent']);
  const server = await run.listening;
  t.same(server!.clientTimeouts, { headersMs: 30_000, idleMs: 65_000 });
});

t.test('a port in use is reported and exits non-zero', async (t) => {
  const dir = tempDir(t);
  const ini = dir.write('odbc.ini', `[one]\nHostName=http://127.0.0.1:9\n`);
  const first = serve(t, ['--config', ini, '--port', '0', '--log-level', 'silent']);
  const server = (await first.listening)!;
  const second = serve(t, [
    '--config',
    ini,
    '--port',
    String(server.port),
    '--log-level',
    'silent',
  ]);
  t.not(await second.exit, 0);
  t.match(second.err(), /port is in use/);
});

t.test(
  'serve: InterceptTLS=1 decrypts CONNECT with the local CA and attaches the credential',
  async (t) => {
    const up = await startUpstream(t, { tls: 'localhost' });
    const dir = tempDir(t);
    const { runCa } = await import('../../lib/cli/ca.js');
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { ProxyAgent } = await import('undici');
    const { TEST_CA_FILE } = await import('../fixtures/upstream.js');
    const caDir = join(dir.dir, 'ca');
    const quiet = { stdout: new PassThrough(), stderr: new PassThrough(), env: {} };
    t.equal(await runCa(['init', '--dir', caDir], quiet), 0);
    const ini = dir.write(
      'odbc.ini',
      `[secure]\nAuthenticationMethod=34\nSecurityToken=intercepted-token-value\nHostName=${up.origin}\nTrustStore=${TEST_CA_FILE}\nInterceptTLS=1\n` +
        `[plain]\nHostName=https://other.example\n`,
    );
    const run = serve(t, [
      '--config',
      ini,
      '--port',
      '0',
      '--log-level',
      'silent',
      '--ca-dir',
      caDir,
    ]);
    const server = await run.listening;
    t.ok(server, run.err());
    const agent = new ProxyAgent({
      uri: server!.url,
      requestTls: { ca: readFileSync(join(caDir, 'tokenshim-ca.crt'), 'utf8') },
    });
    t.teardown(() => agent.close());
    const res = await request(`${up.origin}/through-connect`, { dispatcher: agent });
    t.equal(res.statusCode, 200);
    await res.body.dump();
    t.equal(up.requests.at(-1)?.headers.authorization, 'Bearer intercepted-token-value');

    const refused = await request('https://elsewhere.example:443/', { dispatcher: agent }).then(
      () => 'connected',
      (e: Error) => e.message,
    );
    t.not(refused, 'connected', 'a host no DSN names is refused (TunnelOtherHosts is off)');
  },
);

t.test(
  'serve without InterceptTLS answers CONNECT with 501 pointing at the gateway URL',
  async (t) => {
    const dir = tempDir(t);
    const ini = dir.write('odbc.ini', '[plain]\nHostName=https://api.example\n');
    const run = serve(t, ['--config', ini, '--port', '0', '--log-level', 'silent']);
    const server = await run.listening;
    const { connect } = await import('node:net');
    const port = new URL(server!.url).port;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('CONNECT api.example:443 HTTP/1.1\r\nHost: api.example:443\r\n\r\n');
      });
      let data = '';
      socket.on('data', (c: Buffer) => {
        data += c.toString();
        if (data.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(data);
        }
      });
      socket.on('error', reject);
    });
    t.match(answer, /^HTTP\/1\.1 501/);
  },
);

/** serve with the signal roles of Windows, one DSN [one] pointing at `origin` */
async function serveOnWindows(t: Parameters<typeof tempDir>[0], origin: string) {
  const dir = tempDir(t);
  const ini = dir.write('odbc.ini', `[one]\nHostName=${origin}\n`);
  const run = serve(
    t,
    ['--config', ini, '--port', '0', '--log-level', 'silent'],
    {},
    { platform: 'win32' },
  );
  return { run, server: (await run.listening)!, dir };
}

t.test(
  'win32: SIGBREAK (Ctrl+Break) drains like SIGTERM: the request in flight completes',
  async (t) => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const up = await startUpstream(t, {
      handler: async (_req, res) => {
        await held;
        res.end('finished');
      },
    });
    const { run, server } = await serveOnWindows(t, up.origin);
    const inFlight = request(`${server.url}/one/slow`);
    while (up.requests.length === 0) await new Promise((r) => setImmediate(r));
    run.signals.emit('SIGBREAK');
    let exited = false;
    void run.exit.then(() => (exited = true));
    await new Promise((r) => setImmediate(r));
    t.notOk(exited, 'waits for the request in flight');
    release();
    const res = await inFlight;
    t.equal(res.statusCode, 200);
    t.equal(await res.body.text(), 'finished');
    t.equal(await run.exit, 0);
  },
);

t.test(
  'win32: SIGHUP (the console window closing) stops with a drain and does not reload',
  async (t) => {
    const up = await startUpstream(t);
    const { run, server, dir } = await serveOnWindows(t, up.origin);
    dir.write('odbc.ini', `[one]\nHostName=${up.origin}\n\n[two]\nHostName=${up.origin}/two\n`);
    run.signals.emit('SIGHUP');
    t.equal(await run.exit, 0);
    t.same(
      server.dsns().map((d) => d.name),
      ['one'],
      'the configuration was not re-read',
    );
  },
);

t.test('linux: SIGBREAK is not a signal there and changes nothing', async (t) => {
  const dir = tempDir(t);
  const ini = dir.write('odbc.ini', `[one]\nHostName=http://127.0.0.1:9\n`);
  const run = serve(
    t,
    ['--config', ini, '--port', '0', '--log-level', 'silent'],
    {},
    {
      platform: 'linux',
    },
  );
  const server = (await run.listening)!;
  run.signals.emit('SIGBREAK');
  const res = await request(`${server.url}/_tokenshim/health`);
  t.equal(res.statusCode, 200, 'still serving');
  await res.body.dump();
});

t.test(
  'serve --log-file: JSON lines in a rotating file, redacted as on stderr, nothing on stderr',
  async (t) => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const up = await startUpstream(t);
    const dir = tempDir(t);
    const ini = dir.write(
      'odbc.ini',
      `[api]\nAuthenticationMethod=25\nAuthHeader=X-Api-Key\nSecurityToken=static-secret-in-log-test\nHostName=${up.origin}\n`,
    );
    const logs = join(dir.dir, 'logs dir with spaces');
    const run = serve(t, [
      '--config',
      ini,
      '--port',
      '0',
      '--log-file',
      join(logs, 'tokenshim.log'),
      '--log-max-size',
      '4096',
      '--log-keep',
      '2',
    ]);
    const server = (await run.listening)!;
    t.match(run.out(), `log: ${join(logs, 'tokenshim.log')}`);
    for (let i = 0; i < 100; i++) {
      const res = await request(`${server.url}/api/items?access_token=query-secret-${i}&page=${i}`);
      await res.body.dump();
    }
    run.signals.emit('SIGTERM');
    t.equal(await run.exit, 0);
    t.same(readdirSync(logs).sort(), ['tokenshim.1.log', 'tokenshim.2.log', 'tokenshim.log']);
    const text = readdirSync(logs)
      .map((n) => readFileSync(join(logs, n), 'utf8'))
      .join('');
    const lines = text.trim().split('\n');
    t.ok(
      lines.every((l) => JSON.parse(l) as unknown),
      'JSON lines',
    );
    t.match(text, /"msg":"request"/);
    t.match(text, /shutting down/);
    t.notMatch(text, /query-secret|static-secret-in-log-test/);
    t.equal(run.err(), '', 'stderr stays quiet');
  },
);

t.test(
  'serve: --log-max-size and --log-keep need --log-file, and take whole numbers',
  async (t) => {
    const dir = tempDir(t);
    const ini = dir.write('odbc.ini', `[one]\nHostName=http://127.0.0.1:9\n`);
    const cases: [string[], string][] = [
      [
        ['--log-keep', '3'],
        '--log-max-size and --log-keep apply to a log file: add --log-file PATH',
      ],
      [
        ['--log-file', 'x.log', '--log-max-size', '10MB'],
        '--log-max-size 10MB is not a whole number from 1024 to 1099511627776',
      ],
      [
        ['--log-file', 'x.log', '--log-keep', '0'],
        '--log-keep 0 is not a whole number from 1 to 1000',
      ],
    ];
    for (const [args, message] of cases) {
      const run = serve(t, ['--config', ini, ...args]);
      t.equal(await run.exit, 2, args.join(' '));
      t.match(run.err(), message, args.join(' '));
    }
  },
);

t.test(
  'the banner says http_proxy for curl, and curl with it as printed gets the credential',
  async (t) => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const up = await startUpstream(t);
    const dir = tempDir(t);
    const ini = dir.write(
      'odbc.ini',
      `[api]\nAuthenticationMethod=34\nSecurityToken=proxy-banner-token\nHostName=${up.origin}\n`,
    );
    const run = serve(t, ['--config', ini, '--port', '0', '--log-level', 'silent']);
    const server = (await run.listening)!;
    const line = /http_proxy=(\S+) for curl and wget, HTTP_PROXY=\S+ for most others/.exec(
      run.out(),
    );
    t.ok(line, run.out());
    t.equal(line![1], server.url);
    const { stdout } = await promisify(execFile)(
      'curl',
      ['--silent', '--show-error', `${up.origin}/via-forward-proxy`],
      { env: { PATH: process.env.PATH, http_proxy: line![1] } },
    );
    t.match(stdout, /via-forward-proxy/);
    t.equal(up.requests.at(-1)?.headers.authorization, 'Bearer proxy-banner-token');
  },
);

t.test(
  'the startup lines mask a password in HostName and never show a value from ${env:}',
  async (t) => {
    const { dir, write } = tempDir(t);
    const ini = write('odbc.ini', '[b]\nHostName=https://${env:TENANT}.example.com\n');
    const loaded = await loadConfig({ configPath: ini, env: { TENANT: 'tenant-4711' }, cwd: dir });
    // the config refuses userinfo in HostName; the startup line masks it all the same
    const withUserinfo = makeDsn({ name: 'a', upstream: new URL('https://api.example.com/v1') });
    withUserinfo.upstream!.username = 'svc';
    withUserinfo.upstream!.password = 'pw-in-userinfo-88';
    const server = {
      url: 'http://127.0.0.1:8790',
      dsns: () => [withUserinfo, ...loaded.dsns],
      dsnUrl: (name: string) => `http://127.0.0.1:8790/${name}`,
      dedicatedUrl: () => undefined,
    } as unknown as TokenshimServer;
    const text = describeRoutes(server);
    t.match(text, 'a  http://127.0.0.1:8790/a/ -> https://svc:****88@api.example.com/v1');
    t.match(text, 'b  http://127.0.0.1:8790/b/ -> [redacted]');
    t.notMatch(text, /pw-in-userinfo|tenant-4711/);
  },
);
