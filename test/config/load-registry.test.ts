import t from 'tap';
import { loadConfig, locateConfig } from '../../lib/config/load.js';
import type { ConfigProblem } from '../../lib/config/problems.js';
import type { RunCommand } from '../../lib/platform/run-command.js';
import { tempDir } from '../fixtures/temp-config.js';
import { REGEDIT_EXPORT, utf16WithBom } from '../fixtures/regedit-export.js';

const errors = (problems: ConfigProblem[]) => problems.filter((p) => p.severity === 'error');

t.test('--config file.reg: a regedit export resolves like an odbc.ini', async (t) => {
  const { dir, write } = tempDir(t);
  const path = write('dsns.reg', utf16WithBom(REGEDIT_EXPORT));
  const loaded = await loadConfig({ configPath: path, env: {}, cwd: dir, home: dir });
  t.same(errors(loaded.problems), []);
  t.equal(loaded.path, path, 'the token store default sits next to the export');
  const d = loaded.dsns[0]!;
  t.equal(d.name, 'Marketo');
  t.equal(d.method.code, 53);
  t.equal(d.clientSecret, 's3cr3t-value');
  t.equal(d.upstream?.href, 'https://123-abc-456.mktorest.com/');
  t.same(d.origins.get('ClientSecret'), { source: path, line: 13, key: 'ClientSecret' });
});

t.test('a regedit export is recognised by its content whatever its name', async (t) => {
  const { dir, write } = tempDir(t);
  const path = write('odbc.ini', utf16WithBom(REGEDIT_EXPORT));
  const loaded = await loadConfig({ configPath: path, env: {}, cwd: dir, home: dir });
  t.same(errors(loaded.problems), [], 'no longer "not a text file"');
  t.equal(loaded.dsns[0]?.name, 'Marketo');
});

t.test('errors in a .reg export name the file, the line, the DSN and the value', async (t) => {
  const { dir, write } = tempDir(t);
  const path = write(
    'dsns.reg',
    utf16WithBom(REGEDIT_EXPORT.replace('"PortNumber"=dword:000001bb', '"PortNumber"="x"')),
  );
  const loaded = await loadConfig({ configPath: path, env: {}, cwd: dir, home: dir });
  t.match(errors(loaded.problems), [
    { source: path, line: 16, dsn: 'Marketo', key: 'PortNumber', message: /PortNumber=x/ },
  ]);
});

const REG_QUERY = [
  '',
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\crm',
  '    AuthenticationMethod    REG_SZ    34',
  '    SecurityToken    REG_SZ    tok-123456',
  '    HostName    REG_SZ    https://crm.example',
  '',
].join('\r\n');

function fakeRegistry(byKey: Record<string, string>): { run: RunCommand; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    run: async (_file, args) => {
      const key = /query (\S+) \/s$/.exec(args.at(-1) ?? '')?.[1] ?? '';
      asked.push(key);
      const out = byKey[key];
      return out === undefined
        ? { code: 1, stdout: Buffer.alloc(0), stderr: Buffer.from('ERROR: not found') }
        : { code: 0, stdout: Buffer.from(out), stderr: Buffer.alloc(0) };
    },
  };
}

t.test('--config registry on Windows reads user then system DSNs', async (t) => {
  const { run, asked } = fakeRegistry({ 'HKLM\\SOFTWARE\\ODBC\\ODBC.INI': REG_QUERY });
  const loaded = await loadConfig({
    configPath: 'registry',
    env: {},
    registry: { platform: 'win32', run, env: {} },
  });
  t.same(errors(loaded.problems), []);
  t.equal(loaded.path, undefined, 'no file: the token store takes its default place');
  t.equal(loaded.label, 'registry');
  t.equal(loaded.dsns[0]?.securityToken, 'tok-123456');
  t.same(loaded.dsns[0]?.origins.get('SecurityToken'), {
    source: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\crm',
    key: 'SecurityToken',
  });
  t.same(asked, [
    'HKCU\\SOFTWARE\\ODBC\\ODBC.INI',
    'HKCU\\SOFTWARE\\WOW6432Node\\ODBC\\ODBC.INI',
    'HKLM\\SOFTWARE\\ODBC\\ODBC.INI',
    'HKLM\\SOFTWARE\\WOW6432Node\\ODBC\\ODBC.INI',
  ]);
});

t.test('registry:HKLM, registry:HKCU and $TOKENSHIM_CONFIG', async (t) => {
  const { run, asked } = fakeRegistry({ 'HKLM\\SOFTWARE\\ODBC\\ODBC.INI': REG_QUERY });
  const loaded = await loadConfig({
    env: { TOKENSHIM_CONFIG: 'registry:HKLM' },
    registry: { platform: 'win32', run, env: {} },
  });
  t.equal(loaded.dsns[0]?.name, 'crm');
  t.equal(loaded.label, 'registry:HKLM');
  t.same(asked, ['HKLM\\SOFTWARE\\ODBC\\ODBC.INI', 'HKLM\\SOFTWARE\\WOW6432Node\\ODBC\\ODBC.INI']);
  t.same((await locateConfig({ configPath: 'Registry:hkcu' })).registry, {
    hives: ['HKCU'],
    label: 'Registry:hkcu',
  });
});

t.test('DSN= in a connection string finds the DSN in the registry', async (t) => {
  const { run } = fakeRegistry({ 'HKLM\\SOFTWARE\\ODBC\\ODBC.INI': REG_QUERY });
  const loaded = await loadConfig({
    connect: 'DSN=crm;HostName=https://other.example',
    configPath: 'registry:HKLM',
    env: {},
    registry: { platform: 'win32', run, env: {} },
  });
  t.same(errors(loaded.problems), []);
  t.equal(loaded.dsns[0]?.upstream?.href, 'https://other.example/', 'the string overrides');
  t.equal(loaded.dsns[0]?.securityToken, 'tok-123456');
});

t.test('registry sources that cannot work are clear errors', async (t) => {
  const linux = await loadConfig({
    configPath: 'registry',
    env: {},
    registry: { platform: 'linux' },
  });
  t.match(errors(linux.problems), [
    { source: 'registry', message: /only be read on Windows \(this is linux\)/ },
  ]);
  const badHive = await loadConfig({ configPath: 'registry:HKXX', env: {} });
  t.match(errors(badHive.problems), [
    { source: '--config', message: /"registry:HKXX" names no registry hive/, fix: /registry:HKLM/ },
  ]);
});
