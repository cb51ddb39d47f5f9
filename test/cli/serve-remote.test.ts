/**
 * tokenshim serve for other machines: https (--tls-cert/--tls-key, --tls-pfx with the passphrase
 * from the environment), --accept-host, and --allow-remote refusing a DSN without ClientKey.
 */
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import { runServe } from '../../lib/cli/serve.js';
import type { TokenshimServer } from '../../lib/proxy/server.js';
import { captureIo } from '../fixtures/capture-io.js';
import { tempDir } from '../fixtures/temp-config.js';
import { TEST_CA_FILE, TLS_DIR, startUpstream } from '../fixtures/upstream.js';

const CERT = join(TLS_DIR, 'localhost.pem');
const KEY = join(TLS_DIR, 'localhost-key.pem');
const OTHER_KEY = join(TLS_DIR, 'upstream.test-key.pem');
const CLIENT_KEY = 'client-key-0123456789-serve';
const PASSPHRASE = 'pfx-passphrase-0123456789';

/** runs `tokenshim serve argv`; resolves once it listens (or exits first) */
function serve(t: Test, argv: string[], env: NodeJS.ProcessEnv = {}) {
  const io = captureIo({ env });
  const signals = new EventEmitter();
  let listened!: (s: TokenshimServer | undefined) => void;
  const listening = new Promise<TokenshimServer | undefined>((resolve) => (listened = resolve));
  const exit = runServe(argv, { ...io, signals, onListening: listened }).then((code) => {
    listened(undefined);
    return code;
  });
  t.teardown(async () => {
    signals.emit('SIGTERM');
    await exit;
  });
  return { io, listening, exit };
}

/** serve on a free port, quiet, with these flags */
function quietOn(ini: string, ...flags: string[]): string[] {
  return ['--config', ini, '--port', '0', '--log-level', 'silent', ...flags];
}

async function iniFor(t: Test, upstream: string, extra = ''): Promise<string> {
  return tempDir(t).write(
    'odbc.ini',
    `[api]\nAuthenticationMethod=15\nHostName=${upstream}\n${extra}`,
  );
}

t.test('--tls-cert and --tls-key: https on the main port, the route lines say so', async (t) => {
  const up = await startUpstream(t);
  const ini = await iniFor(t, up.origin);
  const run = serve(t, quietOn(ini, '--tls-cert', CERT, '--tls-key', KEY));
  const server = await run.listening;
  t.ok(server, run.io.err());
  t.match(server!.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  t.match(run.io.out(), `tokenshim listening on ${server!.url}`);
  t.match(run.io.out(), `${server!.url}/api/`);
  const trusting = new Agent({
    connect: { ca: readFileSync(TEST_CA_FILE), servername: 'localhost' },
  });
  t.teardown(() => trusting.close());
  const res = await request(`${server!.url}/api/x`, { dispatcher: trusting });
  t.equal(res.statusCode, 200);
  await res.body.dump();
  t.equal(up.requests[0]?.headers['x-forwarded-proto'], 'https');
  await t.rejects(
    request(`http://127.0.0.1:${server!.port}/api/x`).then((r) => r.body.text()),
    'no plain http',
  );
});

t.test(
  '--tls-pfx with $TOKENSHIM_TLS_PASSPHRASE; a wrong passphrase names the flag, never the passphrase',
  { skip: hasOpenssl() ? false : 'no openssl to make a PFX' },
  async (t) => {
    const dir = tempDir(t);
    const pfx = join(dir.dir, 'tokenshim.pfx');
    execFileSync('openssl', [
      'pkcs12',
      '-export',
      '-in',
      CERT,
      '-inkey',
      KEY,
      '-out',
      pfx,
      '-passout',
      `pass:${PASSPHRASE}`,
    ]);
    const up = await startUpstream(t);
    const ini = await iniFor(t, up.origin);
    const argv = quietOn(ini, '--tls-pfx', pfx);
    const ok = serve(t, argv, { TOKENSHIM_TLS_PASSPHRASE: PASSPHRASE });
    t.match((await ok.listening)?.url, /^https:/);
    const wrong = serve(t, argv, { TOKENSHIM_TLS_PASSPHRASE: 'not-the-passphrase-42' });
    t.equal(await wrong.exit, 2);
    t.match(wrong.io.err(), `--tls-pfx ${pfx} cannot serve https`);
    t.match(wrong.io.err(), '$TOKENSHIM_TLS_PASSPHRASE');
    t.notOk(wrong.io.err().includes('not-the-passphrase-42'));
  },
);

t.test(
  'TLS flags that cannot work: usage and configuration errors before anything listens',
  async (t) => {
    const ini = await iniFor(t, 'http://127.0.0.1:9');
    const cases: [string[], RegExp][] = [
      [['--tls-cert', CERT], /--tls-cert and --tls-key go together/],
      [['--tls-pfx', CERT, '--tls-key', KEY], /--tls-pfx holds the certificate and the key/],
      [
        ['--tls-cert', CERT, '--tls-key', '/nonexistent/key.pem'],
        /--tls-key \/nonexistent\/key\.pem cannot be read \(ENOENT\)/,
      ],
      [
        ['--tls-cert', CERT, '--tls-key', OTHER_KEY],
        /cannot serve https .*the key belongs to the certificate/,
      ],
    ];
    for (const [flags, message] of cases) {
      const run = serve(t, ['--config', ini, '--port', '0', ...flags]);
      t.equal(await run.exit, 2, flags.join(' '));
      t.match(run.io.err(), message);
    }
  },
);

t.test('--allow-remote: a DSN without ClientKey stops serve, naming it', async (t) => {
  const ini = await iniFor(t, 'http://127.0.0.1:9');
  const run = serve(t, ['--config', ini, '--port', '0', '--allow-remote']);
  t.equal(await run.exit, 2);
  t.match(run.io.err(), /--allow-remote: DSN "api" has no ClientKey/);
});

t.test('--accept-host: repeatable names; a URL is a usage error', async (t) => {
  const up = await startUpstream(t);
  const ini = await iniFor(t, up.origin, `ClientKey=${CLIENT_KEY}\n`);
  const run = serve(
    t,
    quietOn(
      ini,
      '--allow-remote',
      '--accept-host',
      'tokenshim.corp.example',
      '--accept-host',
      'qlik-gw',
    ),
  );
  const server = await run.listening;
  t.ok(server, run.io.err());
  for (const host of ['tokenshim.corp.example', 'qlik-gw']) {
    const res = await request(`${server!.url}/api/x`, {
      headers: { host, 'x-tokenshim-key': CLIENT_KEY },
    });
    t.equal(res.statusCode, 200, host);
    await res.body.dump();
  }
  const bad = serve(t, ['--config', ini, '--port', '0', '--accept-host', 'https://x.example:8790']);
  t.equal(await bad.exit, 2);
  t.match(bad.io.err(), /--accept-host https:\/\/x\.example:8790 is not a host name/);
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
}
