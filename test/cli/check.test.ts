import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { runCheck } from '../../lib/cli/check.js';
import { main } from '../../lib/cli/main.js';
import { captureIo } from '../fixtures/capture-io.js';
import { repoRoot } from '../fixtures/repo.js';
import { tempDir } from '../fixtures/temp-config.js';

const bin = join(repoRoot, 'dist/lib/cli/bin.js');

t.test('check prints each DSN with secrets masked and exits 0', async (t) => {
  const { write } = tempDir(t);
  const path = write(
    'odbc.ini',
    '[crm]\nAuthenticationMethod=54\nClientID=abc\nClientSecret=very-secret-ef\nRefreshToken=rt-0123456789\nTokenURI=POST https://login.example.com/token\nClientCredentialsMode=3\nHostName=https://api.example.com\n',
  );
  const io = captureIo();
  t.equal(await runCheck(['--config', path, '--offline'], io), 0);
  t.match(io.out(), '[crm]');
  t.match(io.out(), 'method:      54 OAuth2-RefreshToken');
  t.match(io.out(), 'token:       POST https://login.example.com/token');
  t.match(
    io.out(),
    'client auth: client_id and client_secret in the form body (ClientCredentialsMode=3)',
  );
  t.match(io.out(), 'ClientSecret=****ef RefreshToken=****89');
  t.notMatch(io.out() + io.err(), /very-secret|rt-0123/);
});

t.test(
  'check shows a refresh endpoint, RFC 8705 client auth and the client certificate',
  async (t) => {
    const { write } = tempDir(t);
    const path = write(
      'odbc.ini',
      [
        '[erp]',
        'AuthenticationMethod=53',
        'ClientID=erp',
        'ClientCredentialsMode=self_signed_tls_client_auth',
        'ClientCertificate=C:\\certs\\erp.pfx',
        'ClientCertificatePassword=pfx-password-42',
        'TokenURI=POST https://login.example.com/token',
        'RefreshTokenURI=https://login.example.com/refresh',
        'HostName=https://erp.example.com',
        '',
      ].join('\n'),
    );
    const io = captureIo();
    t.equal(await runCheck(['--config', path, '--offline'], io), 0, io.err());
    t.match(io.out(), 'refresh:     POST https://login.example.com/refresh');
    t.match(
      io.out(),
      'client auth: the TLS client certificate (ClientCertificate, RFC 8705), client_id in the form body (ClientCredentialsMode=self_signed_tls_client_auth)',
    );
    t.match(io.out(), 'client cert: C:\\certs\\erp.pfx');
    t.match(io.out(), 'ClientCertificatePassword=****42');
    t.notMatch(io.out() + io.err(), 'pfx-password-42');
  },
);

t.test('check exits 2 and lists every problem on stderr', async (t) => {
  const { write } = tempDir(t);
  const path = write(
    'odbc.ini',
    '[a]\nAuthenticationMethod=54\nHostName=https://a.example\n[b]\nClientCredentialsMode=7\n',
  );
  const io = captureIo();
  t.equal(await runCheck(['--config', path, '--offline'], io), 2);
  t.match(io.err(), /\[a\]: TokenURI is missing/);
  t.match(io.err(), /\[b\] ClientCredentialsMode: ClientCredentialsMode=7/);
  t.match(io.err(), /4 error\(s\) above: fix them and run tokenshim check again\n$/);
});

t.test('every file in samples/ and odbc.ini.example passes check --offline', async (t) => {
  const files = [join(repoRoot, 'odbc.ini.example')];
  try {
    for (const f of readdirSync(join(repoRoot, 'samples')))
      if (f.endsWith('.ini')) files.push(join(repoRoot, 'samples', f));
  } catch {
    // no samples yet
  }
  for (const file of files) {
    const io = captureIo();
    t.equal(await runCheck(['--config', file, '--offline'], io), 0, `${file}: ${io.err()}`);
  }
});

t.test(
  'the bin: --version, --help, unknown command and usage errors set exit codes 0/2',
  async (t) => {
    const run = promisify(execFile);
    const version = await run(process.execPath, [bin, '--version']);
    t.match(version.stdout, /^\d+\.\d+\.\d+/);
    const help = await run(process.execPath, [bin, 'check', '--help']);
    t.match(help.stdout, /Usage: tokenshim check/);
    await t.rejects(run(process.execPath, [bin, 'frobnicate']), {
      code: 2,
      stderr: /unknown command "frobnicate"/,
    });
    await t.rejects(run(process.execPath, [bin, 'check', '--bogus']), {
      code: 2,
      stderr: /Unknown option '--bogus'/,
    });
    const io = captureIo();
    t.equal(await main([], io), 2);
  },
);

t.test('check --offline does not say ok for values copied from odbc.ini.example', async (t) => {
  const { write } = tempDir(t);
  const path = write(
    'odbc.ini',
    '[crm]\nAuthenticationMethod=54\nClientID=your-client-id\nClientSecret=your-client-secret\n' +
      'RefreshToken=<paste the refresh token>\nTokenURI=POST https://login.example.com/oauth2/token\n' +
      'HostName=https://api.example.com/v1\n[real]\nAuthenticationMethod=53\nClientID=7f3c9a\n' +
      'ClientSecret=s3cr3t-value-99\nTokenURI=POST https://login.acme-corp.io/token\nHostName=https://api.acme-corp.io\n',
  );
  const io = captureIo();
  t.equal(await runCheck(['--config', path, '--offline'], io), 0, 'warnings, not errors');
  const lines = io.err().trim().split('\n');
  t.same(
    lines.map((l) => /:(\d+): warning: \[(\w+)\] (\w+): still holds/.exec(l)?.slice(1)),
    [
      ['3', 'crm', 'ClientID'],
      ['4', 'crm', 'ClientSecret'],
      ['5', 'crm', 'RefreshToken'],
      ['6', 'crm', 'TokenURI'],
      ['7', 'crm', 'HostName'],
    ],
  );
  t.match(io.err(), 'HostName: still holds a documentation host (api.example.com)');
  t.match(io.err(), 'Fix: put the real RefreshToken here, or run tokenshim login <DSN>');
  t.notMatch(io.err(), /your-client|paste the refresh/, 'the value itself is not repeated');
  t.notMatch(io.out(), /^ok:/m);
  t.match(
    io.out(),
    '2 DSN(s) valid, but 5 value(s) are still placeholders (above): fill them in before serving',
  );
});

t.test('the shipped odbc.ini.example is recognised as placeholders throughout', async (t) => {
  const io = captureIo();
  t.equal(await runCheck(['--config', join(repoRoot, 'odbc.ini.example'), '--offline'], io), 0);
  t.match(io.err(), '[crm] ClientID: still holds a placeholder');
  t.match(io.err(), '[marketo] HostName: still holds a placeholder');
  t.notMatch(io.out(), /^ok:/m);
});
