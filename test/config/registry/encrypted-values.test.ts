import t from 'tap';
import { loadConfig } from '../../../lib/config/load.js';
import { encryptedLooking } from '../../../lib/config/registry/encrypted-values.js';
import { utf16WithBom } from '../../fixtures/regedit-export.js';
import { tempDir } from '../../fixtures/temp-config.js';

t.test('values no typed secret could be', async (t) => {
  t.match(encryptedLooking('{QUJDREVGR0hJSktMTU5PUA==}'), /braced/);
  t.match(encryptedLooking('ab\u0001\u0002cd'), /no typed secret has/);
  t.match(encryptedLooking('x\ufffdy'), /no typed secret has/);
  for (const plain of [
    's3cr3t-value',
    'GOCSPX-abc_DEF~123',
    '{short}',
    'a{QUJDREVGR0hJSktMTU5PUA==}',
    'tab\tinside',
  ]) {
    t.equal(encryptedLooking(plain), undefined, plain);
  }
});

t.test('a DataDirect-encrypted secret in a registry DSN is an error with the fix', async (t) => {
  const { dir, write } = tempDir(t);
  const path = write(
    'dsns.reg',
    utf16WithBom(
      [
        'Windows Registry Editor Version 5.00',
        '',
        '[HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI\\crm]',
        '"AuthenticationMethod"="34"',
        '"SecurityToken"="{QUJDREVGR0hJSktMTU5PUFFSU1RVVg==}"',
        '"Description"="{QUJDREVGR0hJSktMTU5PUFFSU1RVVg==}"',
        '"HostName"="https://crm.example"',
        '',
      ].join('\r\n'),
    ),
  );
  const loaded = await loadConfig({ configPath: path, env: {}, cwd: dir });
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  t.match(errors, [
    {
      source: path,
      line: 5,
      dsn: 'crm',
      key: 'SecurityToken',
      message:
        /looks encrypted by the DataDirect ODBC Administrator \(it is a \{braced\} encoded blob\)/,
      fix: /tokenshim protect and set SecurityToken=\$\{dpapi:\.\.\.\}/,
    },
  ]);
  t.equal(errors.length, 1, 'only secrets are judged, not a Description');
  t.notMatch(JSON.stringify(loaded.problems), /QUJDREVG/, 'the value is not echoed');
});
