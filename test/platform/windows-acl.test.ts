import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { FileTokenStore } from '../../lib/auth/stores/file-store.js';
import { loadConfig } from '../../lib/config/load.js';
import type { RunCommand } from '../../lib/platform/run-command.js';
import {
  broadReadAccess,
  describeBroadReadAccess,
  ownerOnlyAclArgs,
  ownerOnlyAclCommand,
  parseIcacls,
  restrictToOwner,
} from '../../lib/platform/windows-acl.js';
import { tempDir } from '../fixtures/temp-config.js';

const FILE = 'C:\\ProgramData\\tokenshim\\odbc.ini';

/** `icacls C:\ProgramData\tokenshim\odbc.ini` on a file that inherited C:\ProgramData's ACL */
const INHERITED = [
  `${FILE} NT AUTHORITY\\SYSTEM:(I)(F)`,
  '                                   BUILTIN\\Administrators:(I)(F)',
  '                                   CREATOR OWNER:(I)(OI)(CI)(IO)(F)',
  '                                   BUILTIN\\Users:(I)(RX)',
  '                                   BUILTIN\\Users:(I)(CI)(WD,AD,WEA,WA)',
  '',
  'Successfully processed 1 files; Failed processing 0 files',
  '',
].join('\r\n');

/** the same file after the fix tokenshim prints */
const RESTRICTED = [
  `${FILE} OWNER RIGHTS:(F)`,
  '                                   NT AUTHORITY\\SYSTEM:(F)',
  '                                   BUILTIN\\Administrators:(F)',
  '',
  'Successfully processed 1 files; Failed processing 0 files',
].join('\r\n');

/** a German server, where icacls prints translated names */
const GERMAN = [
  `${FILE} NT-AUTORITÄT\\SYSTEM:(I)(F)`,
  '                                   VORDEFINIERT\\Administratoren:(I)(F)',
  '                                   Jeder:(R)',
  '                                   VORDEFINIERT\\Benutzer:(DENY)(R)',
  '',
  '1 Dateien erfolgreich verarbeitet, bei 0 Dateien ist ein Verarbeitungsfehler aufgetreten.',
].join('\r\n');

t.test('icacls output: entries with their flags', async (t) => {
  const entries = parseIcacls(INHERITED, FILE);
  t.same(entries, [
    { principal: 'NT AUTHORITY\\SYSTEM', flags: ['I', 'F'] },
    { principal: 'BUILTIN\\Administrators', flags: ['I', 'F'] },
    { principal: 'CREATOR OWNER', flags: ['I', 'OI', 'CI', 'IO', 'F'] },
    { principal: 'BUILTIN\\Users', flags: ['I', 'RX'] },
    { principal: 'BUILTIN\\Users', flags: ['I', 'CI', 'WD', 'AD', 'WEA', 'WA'] },
  ]);
  t.same(
    broadReadAccess(entries).map((e) => e.principal),
    ['BUILTIN\\Users'],
    'read by Users; the write-only entry is not reading',
  );
  t.same(broadReadAccess(parseIcacls(RESTRICTED, FILE)), []);
  t.same(
    broadReadAccess(parseIcacls(GERMAN, FILE)).map((e) => e.principal),
    ['Jeder'],
    'translated names; a DENY entry grants nothing',
  );
});

t.test('the owner-only ACL: by SID, inheritance off, as arguments and as a command', async (t) => {
  t.same(ownerOnlyAclArgs('C:\\x\\tokens.json'), [
    'C:\\x\\tokens.json',
    '/inheritance:r',
    '/grant:r',
    '*S-1-3-4:(F)',
    '*S-1-5-18:(F)',
    '*S-1-5-32-544:(F)',
  ]);
  t.equal(
    ownerOnlyAclCommand('C:\\Program Files\\tokenshim\\odbc.ini'),
    'icacls "C:\\Program Files\\tokenshim\\odbc.ini" /inheritance:r /grant:r "*S-1-3-4:(F)" "*S-1-5-18:(F)" "*S-1-5-32-544:(F)"',
  );
});

function fakeIcacls(
  stdout: string,
  code = 0,
): { run: RunCommand; calls: [string, readonly string[]][] } {
  const calls: [string, readonly string[]][] = [];
  return {
    calls,
    run: async (file, args) => {
      calls.push([file, args]);
      return {
        code,
        stdout: Buffer.from(stdout),
        stderr: Buffer.from(code ? 'Access is denied.' : ''),
      };
    },
  };
}

t.test('describeBroadReadAccess runs the system icacls on Windows only', async (t) => {
  const { run, calls } = fakeIcacls(INHERITED);
  const env = { SystemRoot: 'C:\\Windows' };
  t.equal(
    await describeBroadReadAccess(FILE, { platform: 'win32', run, env }),
    'readable by BUILTIN\\Users',
  );
  t.same(calls, [['C:\\Windows\\System32\\icacls.exe', [FILE]]]);
  t.equal(await describeBroadReadAccess(FILE, { platform: 'linux', run, env }), undefined);
  t.equal(calls.length, 1, 'icacls is not run elsewhere');
});

t.test('a Windows config readable by Users is warned about, with the exact fix', async (t) => {
  const { dir, write } = tempDir(t);
  const path = write('odbc.ini', '[d]\nHostName=https://a.example\n');
  const { run } = fakeIcacls(INHERITED.replaceAll(FILE, path));
  const loaded = await loadConfig({
    configPath: path,
    env: {},
    cwd: dir,
    acl: { platform: 'win32', run, env: {} },
  });
  t.match(loaded.problems, [
    {
      severity: 'warning',
      source: path,
      message: 'the config file is readable by BUILTIN\\Users and may hold secrets',
      fix: `icacls "${path}" /inheritance:r /grant:r "*S-1-3-4:(F)" "*S-1-5-18:(F)" "*S-1-5-32-544:(F)" (if tokenshim runs as a service account other than LocalSystem, also grant it read: /grant "ACCOUNT:(R)")`,
    },
  ]);
  const fixed = fakeIcacls(RESTRICTED.replaceAll(FILE, path));
  const again = await loadConfig({
    configPath: path,
    env: {},
    cwd: dir,
    acl: { platform: 'win32', run: fixed.run, env: {} },
  });
  t.same(again.problems, []);
});

t.test(
  'a token store file gets the owner-only ACL before any token is written to it',
  async (t) => {
    const { dir } = tempDir(t);
    const path = join(dir, 'tokens.json');
    const seen: { path: string; content: string }[] = [];
    const store = new FileTokenStore(path, {
      protectFile: async (p) => {
        seen.push({ path: p, content: await readFile(p, 'utf8') });
      },
    });
    await store.save('crm', { refreshToken: 'rt-123456', savedAt: 1 } as never);
    t.equal(seen.length, 1);
    t.match(
      seen[0]?.path,
      /tokens\.json\.\d+\.[0-9a-f]{8}\.tmp$/,
      'the temp file that becomes the store',
    );
    t.equal(seen[0]?.content, '', 'still empty: no secret sits in a file with the inherited ACL');
    t.match(await readFile(path, 'utf8'), /rt-123456/);

    const refusing = new FileTokenStore(join(dir, 'other.json'), {
      protectFile: (p) =>
        restrictToOwner(p, { platform: 'win32', run: fakeIcacls('', 5).run, env: {} }),
    });
    await t.rejects(refusing.save('crm', { refreshToken: 'x' } as never), {
      message: /icacls could not restrict .*other\.json.*exit code 5: Access is denied/,
    });
  },
);

t.test('restrictToOwner runs icacls with the owner-only arguments on Windows only', async (t) => {
  const { run, calls } = fakeIcacls(
    'processed file: C:\\x\\t.json\r\nSuccessfully processed 1 files',
  );
  await restrictToOwner('C:\\x\\t.json', {
    platform: 'win32',
    run,
    env: { SystemRoot: 'D:\\Win' },
  });
  t.same(calls, [['D:\\Win\\System32\\icacls.exe', ownerOnlyAclArgs('C:\\x\\t.json')]]);
  await restrictToOwner('/tmp/t.json', { platform: 'linux', run, env: {} });
  t.equal(calls.length, 1);
});
