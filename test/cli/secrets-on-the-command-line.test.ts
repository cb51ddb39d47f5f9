/**
 * Secrets in command lines and printed URLs: `--connect "...ClientSecret=..."` is readable by every
 * user in the process list (warned about, with `--connect -` and `${env:}` as the ways out), and a
 * HostName or TokenURI carrying user:password is refused without printing the password.
 */
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import t from 'tap';
import { request } from 'undici';
import { runCheck } from '../../lib/cli/check.js';
import { runServe } from '../../lib/cli/serve.js';
import type { TokenshimServer } from '../../lib/proxy/server.js';
import { captureIo } from '../fixtures/capture-io.js';
import { tempDir } from '../fixtures/temp-config.js';
import { startUpstream } from '../fixtures/upstream.js';

const SECRET = 'cmdline-client-secret-0123456789';
const CONNECT = `AuthenticationMethod=53;ClientID=cid;ClientSecret=${SECRET};TokenURI=POST https://login.acme-corp.net/token;HostName=https://api.acme-corp.net;`;

t.test('a secret written in --connect is warned about, without the secret', async (t) => {
  const io = captureIo();
  t.equal(await runCheck(['--offline', '--connect', CONNECT], io), 0);
  t.match(
    io.err(),
    'ClientSecret is written on the command line (--connect), where every user of this machine can read it in the process list',
  );
  t.match(io.err(), 'tokenshim serve --connect - < dsn.txt');
  t.match(io.err(), 'ClientSecret=${env:NAME}');
  t.notOk(io.out().includes(SECRET) || io.err().includes(SECRET), 'the secret is not printed');
});

t.test('a ${env:} reference in --connect is no secret on the command line', async (t) => {
  const io = captureIo({ env: { CRM_SECRET: SECRET } });
  const connect = CONNECT.replace(SECRET, '${env:CRM_SECRET}');
  t.equal(await runCheck(['--offline', '--connect', connect], io), 0);
  t.notMatch(io.err(), 'command line');
});

t.test('--connect - reads the connection string from standard input, no warning', async (t) => {
  const io = captureIo({ stdin: Readable.from([Buffer.from(`${CONNECT}\n`)]) });
  t.equal(await runCheck(['--offline', '--connect', '-'], io), 0);
  t.match(io.out(), 'ok: 1 DSN(s) valid');
  t.match(io.out(), 'https://login.acme-corp.net/token');
  t.notMatch(io.err(), 'command line');
});

t.test('--connect - with nothing on standard input: a usage error saying how', async (t) => {
  const io = captureIo({ stdin: Readable.from([]) });
  t.equal(await runCheck(['--offline', '--connect', '-'], io), 2);
  t.match(io.err(), '--connect - read an empty connection string from standard input');
});

t.test('serve --connect - serves the piped DSN, and reload keeps it', async (t) => {
  const up = await startUpstream(t);
  const io = captureIo({
    stdin: Readable.from([Buffer.from(`AuthenticationMethod=15;HostName=${up.origin};`)]),
  });
  const signals = new EventEmitter();
  let listened!: (s: TokenshimServer) => void;
  const listening = new Promise<TokenshimServer>((resolve) => (listened = resolve));
  const exit = runServe(['--connect', '-', '--port', '0', '--log-level', 'silent'], {
    ...io,
    signals,
    onListening: listened,
  });
  t.teardown(async () => {
    signals.emit('SIGTERM');
    await exit;
  });
  const server = await listening;
  const res = await request(`${server.url}/default/x`);
  t.equal(res.statusCode, 200);
  await res.body.dump();
  t.same(await server.reload(), { added: [], removed: [], changed: [], unchanged: ['default'] });
});

t.test('HostName with user:password: refused by serve, the password printed nowhere', async (t) => {
  const password = 'hostname-password-0123456789';
  const dir = tempDir(t);
  const ini = dir.write(
    'odbc.ini',
    `[api]\nAuthenticationMethod=15\nHostName=https://svc:${password}@api.example.com/v1\n`,
  );
  const io = captureIo();
  t.equal(await runServe(['--config', ini, '--port', '0'], io), 2);
  t.match(io.err(), 'HostName carries a user name or password');
  t.notOk(io.out().includes(password) || io.err().includes(password));
});
