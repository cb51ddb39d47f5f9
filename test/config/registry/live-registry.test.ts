import t from 'tap';
import type { ConfigProblem } from '../../../lib/config/problems.js';
import { parseRegQuery, readLiveRegistry } from '../../../lib/config/registry/live-registry.js';
import type { CommandResult, RunCommand } from '../../../lib/platform/run-command.js';

/** `reg query HKLM\SOFTWARE\ODBC\ODBC.INI /s` as REG.EXE prints it (CRLF, four-space columns). */
const REG_QUERY_HKLM = [
  '',
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\ODBC Data Sources',
  '    Marketo Prod    REG_SZ    DataDirect 8.0 Autonomous REST Connector',
  '    crm    REG_SZ    DataDirect 8.0 Autonomous REST Connector',
  '',
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\Marketo Prod',
  '    Driver    REG_SZ    C:\\Program Files\\Progress\\DataDirect\\ODBC_80_64bit\\Drivers\\ddarest28.dll',
  '    AuthenticationMethod    REG_SZ    53',
  '    ClientID    REG_SZ    abc',
  '    ClientSecret    REG_SZ    s3cr3t  with  spaces',
  '    PortNumber    REG_DWORD    0x1bb',
  '    Scope    REG_SZ    ',
  '    (Default)    REG_SZ    x',
  '    Tags    REG_MULTI_SZ    a\\0b',
  '',
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\crm',
  '    HostName    REG_SZ    https://crm.example',
  '    Beschreibung    REG_SZ    Müller',
  '',
  'End of search: 10 match(es) found.',
  '',
].join('\r\n');

const ok = (stdout: string): CommandResult => ({
  code: 0,
  stdout: Buffer.from(stdout, 'utf8'),
  stderr: Buffer.alloc(0),
});
const NOT_FOUND: CommandResult = {
  code: 1,
  stdout: Buffer.alloc(0),
  stderr: Buffer.from(
    'ERROR: The system was unable to find the specified registry key or value.\r\n',
  ),
};

t.test('captured REG QUERY output: DSN keys and their values', async (t) => {
  const problems: ConfigProblem[] = [];
  const dsns = parseRegQuery(REG_QUERY_HKLM, problems);
  t.same(
    dsns.map((d) => [d.name, d.hive, d.bits, d.line]),
    [
      ['Marketo Prod', 'HKLM', 64, undefined],
      ['crm', 'HKLM', 64, undefined],
    ],
  );
  t.same(
    dsns[0]?.values.map((v) => [v.name, v.value]),
    [
      ['Driver', 'C:\\Program Files\\Progress\\DataDirect\\ODBC_80_64bit\\Drivers\\ddarest28.dll'],
      ['AuthenticationMethod', '53'],
      ['ClientID', 'abc'],
      ['ClientSecret', 's3cr3t  with  spaces'],
      ['PortNumber', '443'],
      ['Scope', ''],
    ],
    'names with spaces, values with double spaces, dwords in decimal, the default value left out',
  );
  t.same(dsns[1]?.values[1], { name: 'Beschreibung', value: 'Müller' });
  t.match(problems, [
    {
      severity: 'error',
      source: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\Marketo Prod',
      dsn: 'Marketo Prod',
      key: 'Tags',
      message: /REG_MULTI_SZ/,
    },
  ]);
});

t.test('on Windows: REG.EXE through cmd with the UTF-8 code page, per hive and view', async (t) => {
  const calls: [string, readonly string[]][] = [];
  const outputs = [ok(REG_QUERY_HKLM), NOT_FOUND];
  const run: RunCommand = async (file, args) => {
    calls.push([file, args]);
    return outputs.shift() ?? NOT_FOUND;
  };
  const env = { SystemRoot: 'C:\\Windows' };
  const { dsns, problems } = await readLiveRegistry(['HKLM'], 'registry:HKLM', {
    platform: 'win32',
    run,
    env,
  });
  t.same(problems.filter((p) => p.severity === 'error').length, 1, 'only the REG_MULTI_SZ');
  t.same(
    dsns.map((d) => d.name),
    ['Marketo Prod', 'crm'],
  );
  t.same(calls, [
    [
      'C:\\Windows\\System32\\cmd.exe',
      [
        '/d',
        '/c',
        'chcp 65001>nul & C:\\Windows\\System32\\reg.exe query HKLM\\SOFTWARE\\ODBC\\ODBC.INI /s',
      ],
    ],
    [
      'C:\\Windows\\System32\\cmd.exe',
      [
        '/d',
        '/c',
        'chcp 65001>nul & C:\\Windows\\System32\\reg.exe query HKLM\\SOFTWARE\\WOW6432Node\\ODBC\\ODBC.INI /s',
      ],
    ],
  ]);
});

t.test('no DSN in any queried key: an error naming the keys and what REG.EXE said', async (t) => {
  const { dsns, problems } = await readLiveRegistry(['HKCU', 'HKLM'], 'registry', {
    platform: 'win32',
    run: async () => NOT_FOUND,
    env: {},
  });
  t.same(dsns, []);
  t.match(problems, [
    {
      severity: 'error',
      source: 'registry',
      message:
        /no DSN under HKCU\\SOFTWARE\\ODBC\\ODBC.INI, .*HKLM\\SOFTWARE\\WOW6432Node\\ODBC\\ODBC.INI \(REG.EXE: .*unable to find/,
      fix: /odbcad32/,
    },
  ]);
});

t.test('REG.EXE that cannot start is an error with the fix', async (t) => {
  const { problems } = await readLiveRegistry(['HKLM'], 'registry', {
    platform: 'win32',
    run: async () => {
      throw Object.assign(new Error('spawn cmd.exe ENOENT'), { code: 'ENOENT' });
    },
    env: {},
  });
  t.match(problems, [{ severity: 'error', message: /REG.EXE could not be started \(spawn/ }]);
});

t.test(
  'anywhere but Windows, the registry is a clear error pointing at .reg exports',
  async (t) => {
    let ran = false;
    const { problems } = await readLiveRegistry(['HKLM'], 'registry', {
      platform: 'linux',
      run: async () => {
        ran = true;
        return NOT_FOUND;
      },
    });
    t.equal(ran, false);
    t.match(problems, [
      {
        severity: 'error',
        source: 'registry',
        message: /only be read on Windows \(this is linux\)/,
        fix: /--config file\.reg/,
      },
    ]);
  },
);
