import { homedir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  envValue,
  isWindowsServiceProfile,
  pathFor,
  tokenshimHome,
} from '../../lib/platform/tokenshim-home.js';

t.test("TOKENSHIM_HOME wins on every platform, resolved with that platform's rules", async (t) => {
  t.equal(
    tokenshimHome({
      platform: 'win32',
      env: { TOKENSHIM_HOME: 'D:\\Tokenshim Data' },
      homedir: 'C:\\Users\\qlik',
    }),
    'D:\\Tokenshim Data',
  );
  t.equal(
    tokenshimHome({
      platform: 'win32',
      env: { tokenshim_home: 'D:\\x\\..\\y' },
      homedir: 'C:\\Users\\qlik',
    }),
    'D:\\y',
    'Windows reads environment names without case',
  );
  t.equal(
    tokenshimHome({
      platform: 'linux',
      env: { TOKENSHIM_HOME: '/srv/tokenshim' },
      homedir: '/root',
    }),
    '/srv/tokenshim',
  );
});

t.test(
  'a Windows service account (LocalSystem, LocalService, a virtual account) uses %ProgramData%\\tokenshim',
  async (t) => {
    for (const home of [
      'C:\\Windows\\system32\\config\\systemprofile',
      'C:\\WINDOWS\\System32\\Config\\SystemProfile\\',
      'C:\\Windows\\ServiceProfiles\\LocalService',
      'C:\\Windows\\ServiceProfiles\\NetworkService',
    ]) {
      t.equal(
        tokenshimHome({
          platform: 'win32',
          env: { PROGRAMDATA: 'E:\\Program Data' },
          homedir: home,
        }),
        'E:\\Program Data\\tokenshim',
        home,
      );
    }
    t.equal(
      tokenshimHome({
        platform: 'win32',
        env: {},
        homedir: 'C:\\Windows\\ServiceProfiles\\LocalService',
      }),
      'C:\\ProgramData\\tokenshim',
      'without ProgramData in the environment: its standard place',
    );
  },
);

t.test('a person (or a dedicated account with a profile) keeps ~/.tokenshim', async (t) => {
  t.equal(
    tokenshimHome({
      platform: 'win32',
      env: { ProgramData: 'C:\\ProgramData' },
      homedir: 'C:\\Users\\svc tokenshim',
    }),
    'C:\\Users\\svc tokenshim\\.tokenshim',
  );
  t.equal(
    tokenshimHome({ platform: 'linux', env: {}, homedir: '/home/qlik' }),
    '/home/qlik/.tokenshim',
  );
  t.equal(
    tokenshimHome({ platform: 'linux', env: {}, homedir: '/var/lib/systemprofile' }),
    '/var/lib/systemprofile/.tokenshim',
    'the Windows rule applies to Windows only',
  );
  t.equal(tokenshimHome({ env: {} }), join(homedir(), '.tokenshim'), 'defaults: this process');
});

t.test('helpers', async (t) => {
  t.notOk(isWindowsServiceProfile('C:\\Users\\systemprofile'));
  t.notOk(isWindowsServiceProfile('C:\\Windows\\ServiceProfiles'));
  t.equal(envValue({ Path: 'x' }, 'PATH', 'win32'), 'x');
  t.equal(envValue({ Path: 'x' }, 'PATH', 'linux'), undefined);
  t.equal(pathFor('win32').join('C:\\a b', 'c'), 'C:\\a b\\c');
  t.equal(pathFor('linux').join('/a b', 'c'), '/a b/c');
});
