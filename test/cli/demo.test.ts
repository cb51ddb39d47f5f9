import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { request } from 'undici';
import { runDemo } from '../../lib/cli/demo.js';
import { main } from '../../lib/cli/main.js';
import { captureIo } from '../fixtures/capture-io.js';
import { runInProcess } from '../fixtures/run-in-process.js';

/** a shell runs the line as a person would paste it (asynchronously: the proxy is in this process) */
const sh = (line: string) => promisify(execFile)('sh', ['-c', line], { encoding: 'utf8' });

function startDemo(t: { teardown(fn: () => unknown): void }, argv: string[]) {
  return runInProcess(t, runDemo, argv);
}

t.test(
  'tokenshim demo: the printed curl line works as printed; the API refuses direct calls; Ctrl+C cleans up',
  async (t) => {
    const demo = startDemo(t, ['--port', '0']);
    const server = await demo.listening;
    t.ok(server, demo.err());
    const out = demo.out();
    t.match(
      out,
      '*** tokenshim DEMO ***  everything below runs on this machine, on 127.0.0.1 only',
    );
    t.match(out, 'access tokens live 30 s, refresh tokens rotate');
    const curlLines = out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('curl '));
    t.equal(curlLines.length, 2);
    t.equal(curlLines[0], `curl ${server!.url}/demo/orders`);

    const through = await sh(`${curlLines[0]} --silent --show-error --write-out '\\n%{http_code}'`);
    t.equal(through.stderr, '');
    const [json, status] = through.stdout.trimEnd().split(/\n(?=\d+$)/);
    t.equal(status, '200');
    t.match(JSON.parse(json!), {
      token: { number: 1 },
      orders: [{ customer: 'Alpine Outfitters' }, {}, {}],
    });

    const direct = await sh(
      `${curlLines[1]} --silent --output /dev/null --write-out '%{http_code}'`,
    );
    t.equal(direct.stdout, '401', 'without tokenshim, no token, no data');

    t.notMatch(demo.err(), /readable by other users/, 'no world-readable warning');
    const ini = /its DSN\s+(\S+odbc\.ini)/.exec(out)?.[1];
    t.ok(ini && existsSync(ini), 'the demo DSN is in a temp file while it runs');
    demo.signals.emit('SIGINT');
    t.equal(await demo.exit, 0);
    t.notOk(existsSync(ini!), 'and removed when it stops');
    t.notMatch(
      out + demo.err(),
      /demo-secret-|demo-refresh-|demo-access-/,
      'no secret or token printed or logged',
    );
  },
);

t.test(
  'with 2-second tokens, a client polling the API never sees a refusal while the status page counts the refreshes',
  async (t) => {
    const demo = startDemo(t, ['--port', '0', '--token-seconds', '2']);
    const server = (await demo.listening)!;
    type Status = {
      dsns: { name: string; token: { tokenRequests: number; refreshedAt: string | null } }[];
    };
    const statuses: number[] = [];
    const numbers = new Set<number>();
    for (let i = 0; i < 400 && numbers.size < 3; i++) {
      const res = await request(`${server.url}/demo/orders`);
      statuses.push(res.statusCode);
      if (res.statusCode === 200)
        numbers.add(((await res.body.json()) as { token: { number: number } }).token.number);
      else await res.body.dump();
      await sleep(25);
    }
    const res = await request(`${server.url}/_tokenshim/status`, {
      headers: { accept: 'application/json' },
    });
    const status = (await res.body.json()) as Status;
    t.same(
      [...new Set(statuses)],
      [200],
      'every call answered 200: the API never got an expired token',
    );
    t.ok(numbers.size >= 3, `the API saw ${numbers.size} different tokens`);
    const token = status.dsns.find((d) => d.name === 'demo')!.token;
    t.ok(token.tokenRequests >= 3, `the status page counts ${token.tokenRequests} token requests`);
    t.not(token.refreshedAt, null);
    const page = await request(`${server.url}/_tokenshim/status`);
    t.match(await page.body.text(), /<meta http-equiv="refresh"/, 'and reloads itself');
  },
);

t.test('usage: --token-seconds and --help', async (t) => {
  const bad = captureIo();
  t.equal(await runDemo(['--token-seconds', '1'], bad), 2);
  t.match(bad.err(), '--token-seconds 1 is not a whole number from 2 to 86400');
  const io = captureIo();
  t.equal(await main(['demo', '--help'], io), 0);
  t.match(io.out(), /Usage: tokenshim demo \[--port N\]/);
  t.match(io.out(), /default 8790/);
});

t.test('a port in use: the demo says how to pick another', async (t) => {
  const first = startDemo(t, ['--port', '0']);
  const server = (await first.listening)!;
  const second = startDemo(t, ['--port', String(server.port)]);
  t.equal(await second.exit, 2, 'a port in use is a usage problem');
  t.match(
    second.err(),
    `tokenshim demo: if port ${server.port} is taken, run tokenshim demo --port N with another one`,
  );
});
