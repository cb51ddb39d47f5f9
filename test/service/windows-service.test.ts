import t from 'tap';
import { runService } from '../../lib/cli/service.js';
import { captureIo, expectUsageError } from '../fixtures/capture-io.js';
import { fakeServiceHost } from '../fixtures/fake-service-host.js';

const noProblems = async () => [];

const EXE = 'C:\\ProgramData\\tokenshim\\service\\tokenshim.exe';

t.test(
  'win32 --dry-run: the WinSW XML and every command, paths with spaces and drive letters quoted, nothing done',
  async (t) => {
    const host = fakeServiceHost('win32');
    const io = captureIo();
    const code = await runService(
      ['install', '--config', 'D:\\Qlik Data\\tokenshim\\odbc.ini', '--dry-run'],
      io,
      { host, validateConfig: noProblems },
    );
    t.equal(code, 0, io.err());
    const out = io.out();
    t.match(out, 'dry run: nothing is changed. tokenshim service install would:');
    t.match(out, 'Windows service "tokenshim" (WinSW), account LocalService:');
    t.match(out, '  <executable>C:\\Program Files\\nodejs\\node.exe</executable>');
    t.match(
      out,
      '  <arguments>"C:\\Program Files\\tokenshim\\node_modules\\tokenshim\\dist\\lib\\cli\\bin.js" serve ' +
        '--config "D:\\Qlik Data\\tokenshim\\odbc.ini" --log-file C:\\ProgramData\\tokenshim\\logs\\tokenshim.log</arguments>',
    );
    t.match(out, '<env name="TOKENSHIM_HOME" value="C:\\ProgramData\\tokenshim"/>');
    t.match(out, '<workingdirectory>C:\\ProgramData\\tokenshim</workingdirectory>');
    t.match(out, '<onfailure action="restart" delay="10 sec"/>');
    t.match(out, '<stoptimeout>20 sec</stoptimeout>');
    t.match(
      out,
      /<serviceaccount>\s+<domain>NT AUTHORITY<\/domain>\s+<user>LocalService<\/user>\s+<\/serviceaccount>/,
    );
    t.match(out, 'write C:\\ProgramData\\tokenshim\\service\\tokenshim.xml:');
    t.match(
      out,
      `copy C:\\Program Files\\tokenshim\\node_modules\\tokenshim\\node_modules\\node-windows\\bin\\winsw\\winsw.exe\n  to ${EXE}`,
    );
    t.match(
      out,
      'run: icacls.exe C:\\ProgramData\\tokenshim /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F *S-1-5-19:(OI)(CI)M',
    );
    t.match(out, `run: ${EXE} install`);
    t.match(
      out,
      'note: the token store is kept next to the config (D:\\Qlik Data\\tokenshim\\odbc.ini.tokens.json)',
    );
    t.same(host.calls, [], 'a dry run changes nothing');
  },
);

t.test(
  'win32 install: folders, WinSW beside its XML, the ACL, then WinSW registers the service',
  async (t) => {
    const host = fakeServiceHost('win32');
    const io = captureIo();
    t.equal(
      await runService(['install', '--config', 'C:\\ProgramData\\tokenshim\\odbc.ini'], io, {
        host,
        validateConfig: noProblems,
      }),
      0,
      io.err(),
    );
    t.same(host.calls, [
      'mkdir C:\\ProgramData\\tokenshim',
      'mkdir C:\\ProgramData\\tokenshim\\service',
      'mkdir C:\\ProgramData\\tokenshim\\logs',
      `copy ${host.winswExecutable()} -> ${EXE}`,
      `copy ${host.winswExecutable()}.config -> ${EXE}.config`,
      'write C:\\ProgramData\\tokenshim\\service\\tokenshim.xml',
      'run icacls.exe C:\\ProgramData\\tokenshim /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F *S-1-5-19:(OI)(CI)M',
      `run ${EXE} install`,
    ]);
    t.match(
      host.files.get('C:\\ProgramData\\tokenshim\\service\\tokenshim.xml'),
      /\r\n<service>\r\n {2}<id>tokenshim<\/id>/,
    );
    t.match(io.out(), 'Start it: tokenshim service start');
    t.notMatch(
      io.out(),
      'note: the token store',
      'the config is in TOKENSHIM_HOME: nothing to say',
    );
  },
);

t.test('win32: without an elevated prompt, the failure and the fix', async (t) => {
  const host = fakeServiceHost('win32', {
    answers: (file) => (file === EXE ? { code: 5, stderr: 'Access is denied.' } : {}),
  });
  const io = captureIo();
  t.equal(
    await runService(['install', '--config', 'C:\\ProgramData\\tokenshim\\odbc.ini'], io, {
      host,
      validateConfig: noProblems,
    }),
    1,
  );
  t.match(io.err(), `${EXE} install failed (exit 5):\nAccess is denied.`);
  t.match(io.err(), 'Run as administrator');
});

t.test(
  'win32 start, stop, status and uninstall go through WinSW; a missing service is said so',
  async (t) => {
    const host = fakeServiceHost('win32', {
      existing: [EXE],
      answers: (_file, args) => (args[0] === 'status' ? { stdout: 'Started\r\n' } : {}),
    });
    for (const action of ['start', 'stop']) {
      t.equal(await runService([action], captureIo(), { host }), 0);
    }
    const status = captureIo();
    t.equal(await runService(['status'], status, { host }), 0);
    t.match(status.out(), 'Started');
    t.equal(await runService(['uninstall'], captureIo(), { host }), 0);
    t.same(host.calls, [
      `run ${EXE} start`,
      `run ${EXE} stop`,
      `run ${EXE} status`,
      `run ${EXE} stop`,
      `run ${EXE} uninstall`,
      `remove ${EXE}`,
      `remove ${EXE}.config`,
      'remove C:\\ProgramData\\tokenshim\\service\\tokenshim.xml',
    ]);
    const gone = captureIo();
    t.equal(await runService(['status'], gone, { host }), 1);
    t.match(gone.err(), `no service "tokenshim" is installed here (${EXE} is missing)`);
  },
);

t.test(
  'win32 accounts: built-ins by SID, a gMSA with service logon, password accounts refused',
  async (t) => {
    const gmsa = captureIo();
    await runService(
      ['install', '--account', 'CONTOSO\\svc-tokenshim$', '--name', 'tokenshim-sales', '--dry-run'],
      gmsa,
      {
        host: fakeServiceHost('win32'),
        validateConfig: noProblems,
      },
    );
    t.match(
      gmsa.out(),
      /<domain>CONTOSO<\/domain>\s+<user>svc-tokenshim\$<\/user>\s+<allowservicelogon>true<\/allowservicelogon>/,
    );
    t.match(gmsa.out(), 'CONTOSO\\svc-tokenshim$:(OI)(CI)M');
    t.match(gmsa.out(), '<id>tokenshim-sales</id>');
    t.match(gmsa.out(), 'logs\\tokenshim-sales.log');
    t.match(gmsa.out(), 'tokenshim service start --name tokenshim-sales');

    const system = captureIo();
    await runService(['install', '--account', 'localsystem', '--dry-run'], system, {
      host: fakeServiceHost('win32'),
      validateConfig: noProblems,
    });
    t.notMatch(system.out(), '<serviceaccount>', "LocalSystem is WinSW's default");
    t.match(system.out(), /\*S-1-5-32-544:\(OI\)\(CI\)F\n/, 'SYSTEM already has full control');

    await expectUsageError(
      t,
      (io) =>
        runService(['install', '--account', 'CONTOSO\\bob', '--dry-run'], io, {
          host: fakeServiceHost('win32'),
          validateConfig: noProblems,
        }),
      /--account CONTOSO\\bob: .*services\.msc \(Log On tab\).*does not write passwords/,
    );
  },
);

t.test(
  'win32: node or tokenshim in a user profile is flagged: LocalService cannot read it',
  async (t) => {
    const io = captureIo();
    await runService(
      ['install', '--config', 'C:\\ProgramData\\tokenshim\\odbc.ini', '--dry-run'],
      io,
      {
        host: fakeServiceHost('win32', {
          entryScript:
            'C:\\Users\\admin\\AppData\\Roaming\\npm\\node_modules\\tokenshim\\dist\\lib\\cli\\bin.js',
        }),
        validateConfig: noProblems,
      },
    );
    t.match(
      io.out(),
      'warning: tokenshim is under a user profile (C:\\Users\\admin\\AppData\\Roaming\\npm\\node_modules\\tokenshim\\dist\\lib\\cli\\bin.js), which LocalService cannot read',
    );
  },
);

t.test(
  'win32: %ProgramData% elsewhere, --home, --port and log rotation reach the command line',
  async (t) => {
    const io = captureIo();
    await runService(
      [
        'install',
        '--home',
        'E:\\tokenshim home',
        '--config',
        'odbc.ini',
        '--port',
        '8791',
        '--log-max-size',
        '2097152',
        '--log-keep',
        '3',
        '--dry-run',
      ],
      io,
      { host: fakeServiceHost('win32', { cwd: 'E:\\tokenshim home' }), validateConfig: noProblems },
    );
    t.match(
      io.out(),
      'serve --config "E:\\tokenshim home\\odbc.ini" --port 8791 --log-file "E:\\tokenshim home\\logs\\tokenshim.log" --log-max-size 2097152 --log-keep 3</arguments>',
    );
    t.match(
      io.out(),
      'OAuth tokens for the DSNs in E:\\tokenshim home\\odbc.ini on http://127.0.0.1:8791</description>',
    );
    t.match(io.out(), 'run: "E:\\tokenshim home\\service\\tokenshim.exe" install');
  },
);

t.test('a config with errors is not installed: every problem, exit 2', async (t) => {
  const io = captureIo();
  const code = await runService(
    ['install', '--config', 'C:\\ProgramData\\tokenshim\\odbc.ini'],
    io,
    {
      host: fakeServiceHost('win32'),
      validateConfig: async (path) => [
        {
          severity: 'error',
          source: path,
          line: 3,
          dsn: 'crm',
          key: 'HostName',
          message: 'HostName "x y" is not a URL',
          fix: 'write https://...',
        },
      ],
    },
  );
  t.equal(code, 2);
  t.match(io.err(), 'C:\\ProgramData\\tokenshim\\odbc.ini:3');
  t.match(io.err(), 'tokenshim check --config C:\\ProgramData\\tokenshim\\odbc.ini --offline');
});

t.test(
  'win32 --winsw FILE: a newer WinSW is copied alone; a failing copy says which step',
  async (t) => {
    const io = captureIo();
    await runService(
      [
        'install',
        '--winsw',
        'D:\\tools\\WinSW-x64.exe',
        '--config',
        'C:\\ProgramData\\tokenshim2\\odbc.ini',
        '--dry-run',
      ],
      io,
      {
        host: fakeServiceHost('win32'),
        validateConfig: noProblems,
      },
    );
    t.match(io.out(), `copy D:\\tools\\WinSW-x64.exe\n  to ${EXE}\nwrite`);
    t.notMatch(io.out(), '.exe.config');
    t.match(
      io.out(),
      'note: the token store is kept next to the config',
      'tokenshim2 is not inside tokenshim',
    );

    const denied = fakeServiceHost('win32', {
      copyFile: async () => {
        throw Object.assign(new Error('EPERM: operation not permitted, copyfile'), {
          code: 'EPERM',
        });
      },
    });
    const failed = captureIo();
    t.equal(
      await runService(['install', '--config', 'C:\\ProgramData\\tokenshim\\odbc.ini'], failed, {
        host: denied,
        validateConfig: noProblems,
      }),
      1,
    );
    t.match(
      failed.err(),
      `copying ${denied.winswExecutable()} to ${EXE} failed: EPERM: operation not permitted`,
    );
    t.match(failed.err(), 'Run as administrator');
  },
);
