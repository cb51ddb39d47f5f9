import { Readable } from 'node:stream';
import t from 'tap';
import { main } from '../../lib/cli/main.js';
import { runProtect } from '../../lib/cli/protect.js';
import { loadConfig } from '../../lib/config/load.js';
import { captureIo } from '../fixtures/capture-io.js';
import { fakeDpapi } from '../fixtures/fake-dpapi.js';
import { tempDir } from '../fixtures/temp-config.js';

t.test('tokenshim protect prints a ${dpapi:...} value that the config then reads', async (t) => {
  const dpapi = fakeDpapi();
  const io = captureIo();
  const code = await runProtect([], io, { stdin: Readable.from(['piped-secret-42\n']), dpapi });
  t.equal(code, 0);
  const value = io.out().trim();
  t.match(value, /^\$\{dpapi:[A-Za-z0-9+/=]+\}$/);
  t.notMatch(io.out() + io.err(), /piped-secret-42/, 'the secret itself is never printed');
  t.match(io.err(), /Only this Windows account on this machine can decrypt it/);
  t.same(dpapi.calls, ['protect CurrentUser']);

  const { dir, write } = tempDir(t);
  const path = write(
    'odbc.ini',
    `[d]\nAuthenticationMethod=34\nSecurityToken=${value}\nHostName=https://a.example\n`,
  );
  const loaded = await loadConfig({ configPath: path, env: {}, cwd: dir, dpapi });
  t.equal(loaded.dsns[0]?.securityToken, 'piped-secret-42');
});

t.test('--scope machine, bad scopes, empty input, and non-Windows', async (t) => {
  const dpapi = fakeDpapi();
  const io = captureIo();
  t.equal(await runProtect(['--scope', 'machine'], io, { stdin: Readable.from(['x1']), dpapi }), 0);
  t.same(dpapi.calls, ['protect LocalMachine']);
  t.match(io.err(), /Only this machine can decrypt it/);

  const team = captureIo();
  t.equal(await runProtect(['--scope', 'team'], team, { dpapi }), 2);
  t.match(team.err(), /--scope team: write --scope user or --scope machine/);

  const empty = captureIo();
  t.equal(await runProtect([], empty, { stdin: Readable.from([]), dpapi }), 2);
  t.match(empty.err(), /no secret was given/);

  const linux = captureIo();
  t.equal(await runProtect([], linux, { dpapi: { platform: 'linux' } }), 1);
  t.match(linux.err(), /tokenshim protect: DPAPI exists only on Windows/);
});

t.test('protect is a listed command with its own help', async (t) => {
  const io = captureIo();
  t.equal(await main(['--help'], io), 0);
  t.match(io.out(), /protect +encrypt a secret with Windows DPAPI/);
  const help = captureIo();
  t.equal(await main(['protect', '--help'], help), 0);
  t.match(help.out(), /Usage: tokenshim protect \[--scope user\|machine\]/);
});
