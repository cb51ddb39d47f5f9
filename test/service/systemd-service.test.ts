import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../../lib/cli/main.js';
import { runService } from '../../lib/cli/service.js';
import { processServiceHost } from '../../lib/service/service-host.js';
import { quoteSystemdArgument } from '../../lib/service/systemd.js';
import { captureIo, expectUsageError } from '../fixtures/capture-io.js';
import { tempDir } from '../fixtures/temp-config.js';
import { fakeServiceHost } from '../fixtures/fake-service-host.js';

const noProblems = async () => [];

t.test(
  'linux as root --dry-run: a system unit running as the sudo user, drained by SIGTERM, reloaded by SIGHUP',
  async (t) => {
    const host = fakeServiceHost('linux', {
      isRoot: true,
      username: 'qlik',
      cwd: '/etc/tokenshim',
    });
    const io = captureIo();
    t.equal(
      await runService(['install', '--config', 'odbc.ini', '--dry-run'], io, {
        host,
        validateConfig: noProblems,
      }),
      0,
      io.err(),
    );
    const out = io.out();
    t.match(out, 'systemd system unit "tokenshim", running as qlik:');
    t.match(out, 'write /etc/systemd/system/tokenshim.service:');
    t.match(
      out,
      '  ExecStart=/usr/bin/node /usr/lib/node_modules/tokenshim/dist/lib/cli/bin.js serve --config /etc/tokenshim/odbc.ini\n',
    );
    t.match(out, '  ExecReload=/bin/kill -HUP $MAINPID\n');
    t.match(out, '  Restart=on-failure\n');
    t.match(out, '  TimeoutStopSec=20\n');
    t.match(out, '  User=qlik\n');
    t.match(out, '  WorkingDirectory=/etc/tokenshim\n');
    t.match(out, '  WantedBy=multi-user.target\n');
    t.match(out, 'run: systemctl daemon-reload\nrun: systemctl enable tokenshim\n');
    t.same(host.calls, []);
  },
);

t.test("linux: paths with spaces, % and $ survive systemd's splitting and expansion", async (t) => {
  t.equal(quoteSystemdArgument('/opt/tokenshim/bin.js'), '/opt/tokenshim/bin.js');
  t.equal(quoteSystemdArgument('/srv/Qlik Data/odbc.ini'), '"/srv/Qlik Data/odbc.ini"');
  t.equal(quoteSystemdArgument('/srv/100%/a$b'), '/srv/100%%/a$$b');
  t.equal(quoteSystemdArgument('/srv/say "hi"\\x'), '"/srv/say \\"hi\\"\\\\x"');
  const io = captureIo();
  await runService(
    [
      'install',
      '--config',
      '/srv/Qlik Data/odbc.ini',
      '--home',
      '/var/lib/token shim',
      '--system',
      '--account',
      'svc-tokenshim',
      '--dry-run',
    ],
    io,
    {
      host: fakeServiceHost('linux'),
      validateConfig: noProblems,
    },
  );
  t.match(io.out(), 'serve --config "/srv/Qlik Data/odbc.ini"\n');
  t.match(io.out(), '  Environment="TOKENSHIM_HOME=/var/lib/token shim"\n');
  t.match(io.out(), '  WorkingDirectory=/srv/Qlik Data\n');
  t.match(io.out(), '  User=svc-tokenshim\n');
});

t.test(
  'linux as a user: a user unit, systemctl --user, and how to keep it after logout',
  async (t) => {
    const host = fakeServiceHost('linux', { env: { XDG_CONFIG_HOME: '/home/qlik/.cfg' } });
    const io = captureIo();
    t.equal(
      await runService(
        ['install', '--config', '/home/qlik/odbc.ini', '--log-file', 'logs/tokenshim.log'],
        io,
        { host, validateConfig: noProblems },
      ),
      0,
      io.err(),
    );
    t.same(host.calls, [
      'mkdir /home/qlik/.cfg/systemd/user',
      'write /home/qlik/.cfg/systemd/user/tokenshim.service',
      'run systemctl --user daemon-reload',
      'run systemctl --user enable tokenshim',
    ]);
    const unit = host.files.get('/home/qlik/.cfg/systemd/user/tokenshim.service')!;
    t.match(unit, '--log-file /home/qlik/logs/tokenshim.log\n');
    t.notMatch(unit, 'User=');
    t.match(unit, 'WantedBy=default.target');
    t.match(io.out(), 'loginctl enable-linger qlik');
    t.match(io.out(), 'Start it: tokenshim service start --user');
  },
);

t.test('linux: a system unit running as root is flagged', async (t) => {
  const io = captureIo();
  await runService(['install', '--dry-run'], io, {
    host: fakeServiceHost('linux', { isRoot: true, username: 'root' }),
    validateConfig: noProblems,
  });
  t.match(io.out(), 'warning: the service would run as root. Pass --account USER');
});

t.test('linux start, stop, status, uninstall: systemctl, failures explained', async (t) => {
  const host = fakeServiceHost('linux', {
    answers: (_f, args) =>
      args.includes('status')
        ? { code: 3, stdout: '○ tokenshim.service - tokenshim\n     Active: inactive (dead)' }
        : {},
  });
  t.equal(await runService(['start', '--user'], captureIo(), { host }), 0);
  t.equal(await runService(['stop', '--user'], captureIo(), { host }), 0);
  const status = captureIo();
  t.equal(await runService(['status', '--user'], status, { host }), 0);
  t.match(status.out(), 'Active: inactive (dead)');
  t.equal(await runService(['uninstall', '--user'], captureIo(), { host }), 0);
  t.same(host.calls, [
    'run systemctl --user start tokenshim',
    'run systemctl --user stop tokenshim',
    'run systemctl --user status --no-pager tokenshim',
    'run systemctl --user disable --now tokenshim',
    'remove /home/qlik/.config/systemd/user/tokenshim.service',
    'run systemctl --user daemon-reload',
  ]);
  const refused = fakeServiceHost('linux', {
    answers: () => ({ code: 1, stderr: 'Failed to start tokenshim.service: Access denied' }),
  });
  const io = captureIo();
  t.equal(await runService(['start', '--system'], io, { host: refused }), 1);
  t.match(
    io.err(),
    'systemctl start tokenshim failed (exit 1):\nFailed to start tokenshim.service: Access denied',
  );
  t.match(io.err(), 'A system unit needs root: run it with sudo, or pass --user');
});

t.test(
  'usage: an action is required, --user and --system exclude each other, other platforms are told',
  async (t) => {
    const none = captureIo();
    t.equal(await main(['service'], none), 2);
    t.match(
      none.err(),
      'say what to do: tokenshim service install, uninstall, start, stop or status',
    );
    const wrong = captureIo();
    t.equal(await main(['service', 'restart'], wrong), 2);
    t.match(wrong.err(), '(not "restart")');
    await expectUsageError(
      t,
      (io) => runService(['start', '--user', '--system'], io, { host: fakeServiceHost('linux') }),
      '--user and --system: pick one',
    );
    await expectUsageError(
      t,
      (io) =>
        runService(['install', '--dry-run'], io, {
          host: { ...fakeServiceHost('linux'), platform: 'darwin' },
        }),
      /knows Windows \(WinSW\) and Linux \(systemd\); on darwin, run tokenshim serve under your own service manager/,
    );
    await expectUsageError(
      t,
      (io) =>
        runService(['install', '--port', '99999', '--dry-run'], io, {
          host: fakeServiceHost('linux'),
        }),
      '--port 99999 is not a whole number from 1 to 65535',
    );
    await expectUsageError(
      t,
      (io) =>
        runService(['install', '--log-keep', '3', '--dry-run'], io, {
          host: fakeServiceHost('linux'),
        }),
      '--log-max-size and --log-keep apply to a log file: add --log-file PATH',
    );
    await expectUsageError(
      t,
      (io) =>
        runService(['install', '--name', 'token shim'], io, {
          host: fakeServiceHost('linux'),
        }),
      /--name "token shim" cannot name a service/,
    );
  },
);

t.test(
  'this machine: the real host finds bin.js and the WinSW that node-windows ships',
  async (t) => {
    const dir = tempDir(t);
    const ini = dir.write('odbc.ini', '[one]\nHostName=https://api.example\n');
    const host = processServiceHost({}, dir.dir);
    t.ok(existsSync(host.entryScript), host.entryScript);
    t.match(host.entryScript, /dist[/\\]lib[/\\]cli[/\\]bin\.js$/);
    const winsw = host.winswExecutable();
    t.equal(readFileSync(winsw).subarray(0, 2).toString(), 'MZ', 'a Windows executable');
    t.ok(existsSync(`${winsw}.config`));
    const io = captureIo({ cwd: dir.dir });
    t.equal(await main(['service', 'install', '--config', ini, '--dry-run'], io), 0, io.err());
    t.match(io.out(), `${host.entryScript} serve --config ${ini}`);
  },
);

t.test('install validates the config for real: errors stop it', async (t) => {
  const dir = tempDir(t);
  const ini = dir.write('odbc.ini', '[bad]\nHostName=not a url at all\n');
  const io = captureIo();
  t.equal(
    await runService(['install', '--config', ini, '--dry-run'], io, {
      host: fakeServiceHost('linux'),
    }),
    2,
  );
  t.match(io.err(), `${ini}:2: error: [bad] HostName`);
  t.equal(io.out(), '');
});

const systemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

t.test(
  'systemd itself accepts the unit (systemd-analyze verify), spaces and % in the paths',
  { skip: systemdAnalyze ? false : 'systemd-analyze is not installed here' },
  async (t) => {
    const dir = tempDir(t);
    const configDir = join(dir.dir, 'Qlik Data 100%');
    mkdirSync(configDir);
    const host = fakeServiceHost('linux', {
      isRoot: true,
      username: 'root',
      execPath: process.execPath,
      entryScript: processServiceHost({}, dir.dir).entryScript,
    });
    await runService(
      ['install', '--config', join(configDir, 'odbc.ini'), '--home', join(dir.dir, 'home dir')],
      captureIo(),
      {
        host,
        validateConfig: noProblems,
      },
    );
    const unit = host.files.get('/etc/systemd/system/tokenshim.service')!;
    const path = dir.write('tokenshim.service', unit);
    const verified = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
    t.equal(verified.status, 0, verified.stderr);
    t.equal(verified.stderr.trim(), '', 'no warning either');
  },
);
