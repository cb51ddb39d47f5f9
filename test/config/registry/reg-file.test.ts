import t from 'tap';
import {
  decodeRegFile,
  looksLikeRegExport,
  parseRegFile,
} from '../../../lib/config/registry/reg-file.js';
import { pickRegistryDsns } from '../../../lib/config/registry/registry-dsns.js';
import type { ConfigProblem } from '../../../lib/config/problems.js';
import { REGEDIT_EXPORT, utf16WithBom } from '../../fixtures/regedit-export.js';

const values = (dsn: { values: readonly { name: string; value: string }[] } | undefined) =>
  Object.fromEntries((dsn?.values ?? []).map((v) => [v.name, v.value]));

t.test('a regedit export: UTF-16LE with BOM, CRLF, escapes, dword', async (t) => {
  const buf = utf16WithBom(REGEDIT_EXPORT);
  t.ok(looksLikeRegExport(buf));
  const { dsns, problems } = parseRegFile(decodeRegFile(buf), 'odbc.reg');
  t.same(problems, []);
  t.equal(dsns.length, 1, '[ODBC Data Sources] and ODBC.INI itself are not DSNs');
  t.match(dsns[0], { name: 'Marketo', line: 8, hive: 'HKLM', bits: 64 });
  t.same(values(dsns[0]), {
    Driver: 'C:\\Program Files\\Progress\\DataDirect\\ODBC_80_64bit\\Drivers\\ddarest28.dll',
    Description: 'Marketo "prod"',
    AuthenticationMethod: '53',
    ClientID: 'abc',
    ClientSecret: 's3cr3t-value',
    TokenURI: 'POST https://123-abc-456.mktorest.com/identity/oauth/token',
    HostName: 'https://123-abc-456.mktorest.com',
    PortNumber: '443',
  });
  t.same(
    dsns[0]?.values.map((v) => v.line),
    [9, 10, 11, 12, 13, 14, 15, 16],
  );
});

t.test('the same export as UTF-8, UTF-8 with BOM, and UTF-16LE without BOM', async (t) => {
  for (const buf of [
    Buffer.from(REGEDIT_EXPORT, 'utf8'),
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(REGEDIT_EXPORT, 'utf8')]),
    Buffer.from(REGEDIT_EXPORT, 'utf16le'),
  ]) {
    t.ok(looksLikeRegExport(buf));
    const { dsns, problems } = parseRegFile(decodeRegFile(buf), 'odbc.reg');
    t.same(problems, []);
    t.equal(values(dsns[0]).ClientSecret, 's3cr3t-value');
  }
  t.notOk(looksLikeRegExport(Buffer.from('[d]\nHostName=x\n')), 'an odbc.ini is not an export');
});

t.test('REGEDIT4 exports are ANSI (Windows-1252)', async (t) => {
  const text =
    'REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\Software\\ODBC\\ODBC.INI\\crm]\r\n"User"="M\xfcller"\r\n';
  const buf = Buffer.from(text, 'latin1');
  const { dsns, problems } = parseRegFile(decodeRegFile(buf), 'old.reg');
  t.same(problems, []);
  t.match(dsns[0], { name: 'crm', hive: 'HKCU', bits: 64 });
  t.same(values(dsns[0]), { User: 'Müller' });
});

t.test('every ODBC.INI path: HKLM, HKCU, WOW6432Node, any case', async (t) => {
  const text = [
    'Windows Registry Editor Version 5.00',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\ODBC\\ODBC.INI\\a]',
    '"HostName"="https://a.example"',
    '[HKEY_CURRENT_USER\\Software\\ODBC\\ODBC.INI\\b]',
    '"HostName"="https://b.example"',
    '[hkey_local_machine\\software\\odbc\\odbc.ini\\c]',
    '"HostName"="https://c.example"',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBCINST.INI\\DataDirect 8.0 Autonomous REST Connector]',
    '"Driver"="x.dll"',
  ].join('\r\n');
  const { dsns, problems } = parseRegFile(text, 'x.reg');
  t.same(problems, []);
  t.same(
    dsns.map((d) => [d.name, d.hive, d.bits]),
    [
      ['a', 'HKLM', 32],
      ['b', 'HKCU', 64],
      ['c', 'HKLM', 64],
    ],
    'driver definitions (ODBCINST.INI) are not DSNs',
  );
});

t.test('one DSN per name: user over system, 64-bit over 32-bit, with a warning', async (t) => {
  const text = [
    'Windows Registry Editor Version 5.00',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\ODBC\\ODBC.INI\\crm]',
    '"HostName"="https://32.example"',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\crm]',
    '"HostName"="https://64.example"',
    '[HKEY_CURRENT_USER\\SOFTWARE\\ODBC\\ODBC.INI\\mkto]',
    '"HostName"="https://user.example"',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\MKTO]',
    '"HostName"="https://system.example"',
  ].join('\r\n');
  const parsed = parseRegFile(text, 'x.reg');
  const problems: ConfigProblem[] = [];
  const picked = pickRegistryDsns(parsed.dsns, 'x.reg', problems);
  t.same(
    picked.map((d) => [d.name, values(d).HostName]),
    [
      ['crm', 'https://64.example'],
      ['mkto', 'https://user.example'],
    ],
  );
  t.match(problems, [
    { severity: 'warning', line: 8, dsn: 'MKTO', message: /64-bit user DSN .* is used/ },
    {
      severity: 'warning',
      line: 2,
      dsn: 'crm',
      message:
        /the 64-bit system DSN .* is used and the 32-bit system DSN \(HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node/,
    },
  ]);
});

t.test('hex values: REG_EXPAND_SZ and REG_QWORD read, the rest reported clearly', async (t) => {
  const utf16hex = (s: string) =>
    [...Buffer.from(`${s}\0`, 'utf16le')].map((b) => b.toString(16).padStart(2, '0')).join(',');
  const path = utf16hex('C:\\ProgramData\\tokenshim\\tokens.json');
  // regedit wraps long hex values at 80 columns with a trailing backslash
  const wrapped = `${path.slice(0, 60)}\\\r\n  ${path.slice(60)}`;
  const text = [
    'Windows Registry Editor Version 5.00',
    '',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\d]',
    `"TokenStore"=hex(2):${wrapped}`,
    '"RefreshMargin"=hex(b):2c,01,00,00,00,00,00,00',
    `"JWTPrivateKeyFile"=hex(2):${utf16hex('%ProgramData%\\key.pem')}`,
    `"Scope"=hex(7):${utf16hex('read\0write\0')}`,
    '"ClientSecret"=hex:01,02,03',
    '"AccessToken"=-',
    '"Bad"=blob:1',
    '@="default"',
  ].join('\r\n');
  const { dsns, problems } = parseRegFile(text, 'x.reg');
  t.same(values(dsns[0]), {
    TokenStore: 'C:\\ProgramData\\tokenshim\\tokens.json',
    RefreshMargin: '300',
  });
  t.equal(dsns[0]?.values[0]?.line, 4, 'a wrapped value keeps its first line');
  t.match(problems, [
    {
      severity: 'error',
      line: 7,
      dsn: 'd',
      key: 'JWTPrivateKeyFile',
      message: /REG_EXPAND_SZ with %VARIABLES%/,
      fix: /\$\{env:NAME\}/,
    },
    {
      severity: 'error',
      line: 8,
      key: 'Scope',
      message: /REG_MULTI_SZ \(a list of strings\), which cannot be an ODBC option/,
    },
    { severity: 'error', line: 9, key: 'ClientSecret', message: /REG_BINARY/ },
    { severity: 'warning', line: 10, key: 'AccessToken', message: /deletes this value/ },
    { severity: 'error', line: 11, key: 'Bad', message: /not a value regedit writes/ },
  ]);
  t.equal(problems.length, 5, 'the default value (@) is not an option and not a problem');
  t.notMatch(JSON.stringify(problems), /01,02,03/, 'no value is echoed');
});

t.test('what a .reg export can get wrong, each with its error', async (t) => {
  t.match(parseRegFile('[HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\d]\r\n', 'x.reg').problems, [
    { severity: 'error', line: 1, message: /not a regedit export/, fix: /Export/ },
  ]);
  t.match(
    parseRegFile(
      'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\r\n"x"="y"\r\n',
      'x.reg',
    ).problems,
    [
      {
        severity: 'error',
        message: /holds no DSN/,
        fix: /HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI/,
      },
    ],
  );
  const text = [
    'Windows Registry Editor Version 5.00',
    '"Early"="x"',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\d]',
    '"Open"="no end',
    'garbage',
    '"NoEquals" "x"',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\d\\Sub]',
    '"x"="y"',
    '[-HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\gone]',
    '"ignored"="y"',
  ].join('\r\n');
  const { dsns, problems } = parseRegFile(text, 'x.reg');
  t.same(
    dsns.map((d) => d.name),
    ['d'],
    'a deleted key is no DSN',
  );
  t.match(problems, [
    { line: 2, message: /before any \[key\] line/ },
    { line: 4, dsn: 'd', key: 'Open', message: /no closing quote/ },
    { line: 5, message: /not a "Name"=value line/ },
    { line: 6, key: 'NoEquals', message: /not followed by "="/ },
    { severity: 'warning', line: 7, dsn: 'd', message: /subkey .*\\Sub is ignored/ },
  ]);
});
