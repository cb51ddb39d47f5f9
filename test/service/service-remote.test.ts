import t from 'tap';
import { runService } from '../../lib/cli/service.js';
import { captureIo, expectUsageError } from '../fixtures/capture-io.js';
import { fakeServiceHost } from '../fixtures/fake-service-host.js';
import { tempDir } from '../fixtures/temp-config.js';

const noProblems = async () => [];

/** A central tokenshim for a multi-node Qlik site: other machines, https, a name, client timeouts. */
const REMOTE = [
  '--host',
  '0.0.0.0',
  '--allow-remote',
  '--accept-host',
  'tokenshim.corp.example',
  '--accept-host',
  'qlik-central',
  '--client-idle-timeout',
  '120',
  '--client-headers-timeout',
  '20',
];

t.test(
  'win32: serve as a service for other machines: the network and https flags reach the WinSW arguments, files made absolute',
  async (t) => {
    const host = fakeServiceHost('win32');
    const io = captureIo();
    const code = await runService(
      [
        'install',
        '--config',
        'D:\\tokenshim\\odbc.ini',
        ...REMOTE,
        '--tls-cert',
        'certs\\central.pem',
        '--tls-key',
        'certs\\central-key.pem',
        '--dry-run',
      ],
      io,
      { host, validateConfig: noProblems },
    );
    t.equal(code, 0, io.err());
    t.match(
      io.out(),
      '--host 0.0.0.0 --allow-remote --accept-host tokenshim.corp.example --accept-host qlik-central ' +
        '--client-headers-timeout 20 --client-idle-timeout 120 ' +
        '--tls-cert C:\\Users\\admin\\certs\\central.pem --tls-key C:\\Users\\admin\\certs\\central-key.pem</arguments>',
    );
    t.match(io.out(), 'on https://0.0.0.0:8790');
    t.notMatch(io.out() + io.err(), 'TOKENSHIM_TLS_PASSPHRASE', 'no passphrase: nothing to warn');
  },
);

t.test('linux: the same flags in ExecStart, a .pfx made absolute', async (t) => {
  const host = fakeServiceHost('linux', { cwd: '/etc/tokenshim' });
  const io = captureIo();
  const code = await runService(
    ['install', '--config', 'odbc.ini', ...REMOTE, '--tls-pfx', 'central.pfx', '--dry-run'],
    io,
    { host, validateConfig: noProblems },
  );
  t.equal(code, 0, io.err());
  t.match(
    io.out(),
    'serve --config /etc/tokenshim/odbc.ini --host 0.0.0.0 --allow-remote --accept-host tokenshim.corp.example ' +
      '--accept-host qlik-central --client-headers-timeout 20 --client-idle-timeout 120 --tls-pfx /etc/tokenshim/central.pfx\n',
  );
});

t.test('a loopback service passes no network flags at all', async (t) => {
  const host = fakeServiceHost('linux', { cwd: '/etc/tokenshim' });
  const io = captureIo();
  await runService(['install', '--config', 'odbc.ini', '--dry-run'], io, {
    host,
    validateConfig: noProblems,
  });
  t.match(io.out(), 'serve --config /etc/tokenshim/odbc.ini\n');
  t.match(io.out(), 'on http://127.0.0.1:8790');
});

t.test(
  'a passphrase in this prompt is not written into the service: a warning says what to do',
  async (t) => {
    const host = fakeServiceHost('linux', {
      cwd: '/etc/tokenshim',
      env: { TOKENSHIM_TLS_PASSPHRASE: 'pass-phrase-123' },
    });
    const io = captureIo();
    t.equal(
      await runService(['install', '--config', 'odbc.ini', '--tls-pfx', 'c.pfx', '--dry-run'], io, {
        host,
        validateConfig: noProblems,
      }),
      0,
    );
    const all = io.out() + io.err();
    t.match(all, 'the service does not get $TOKENSHIM_TLS_PASSPHRASE');
    t.match(all, 'give it a key without a passphrase');
    t.notMatch(all, 'pass-phrase-123', 'the passphrase itself is never printed');
  },
);

t.test(
  'bad network and https flags are refused at install, as serve would refuse them',
  async (t) => {
    const cases: [string[], RegExp][] = [
      [
        ['--host', '0.0.0.0'],
        /--host 0\.0\.0\.0 lets other machines reach tokenshim; add --allow-remote/,
      ],
      [
        ['--accept-host', 'https://tokenshim.corp.example'],
        /--accept-host https:\/\/tokenshim\.corp\.example is not a host name/,
      ],
      [['--client-idle-timeout', 'soon'], /--client-idle-timeout/],
      [['--tls-cert', 'c.pem'], /--tls-cert and --tls-key go together/],
      [['--tls-pfx', 'c.pfx', '--tls-key', 'k.pem'], /--tls-pfx holds the certificate and the key/],
    ];
    for (const [flags, message] of cases) {
      const host = fakeServiceHost('win32');
      await expectUsageError(
        t,
        (io) =>
          runService(['install', '--config', 'D:\\odbc.ini', ...flags, '--dry-run'], io, {
            host,
            validateConfig: noProblems,
          }),
        message,
      );
      t.same(host.calls, [], `${flags.join(' ')}: nothing done`);
    }
  },
);

t.test(
  '--allow-remote: a config with a DSN without a ClientKey is not installed, as serve would not start',
  async (t) => {
    const { write } = tempDir(t);
    const dsn = (name: string, extra = '') =>
      `[${name}]\nAuthenticationMethod=34\nHostName=https://api.example.com\nSecurityToken=static-token-value${extra}\n`;
    const open = write('open.ini', dsn('erp', '\nClientKey=a-long-client-key-123') + dsn('crm'));
    const host = fakeServiceHost('linux');
    await expectUsageError(
      t,
      (io) =>
        runService(['install', '--config', open, '--host', '0.0.0.0', '--allow-remote'], io, {
          host,
        }),
      /--allow-remote: DSN "crm" has no ClientKey/,
    );
    t.same(host.calls, [], 'nothing registered');

    const keyed = write('keyed.ini', dsn('erp', '\nClientKey=a-long-client-key-123'));
    const io = captureIo();
    t.equal(
      await runService(
        ['install', '--config', keyed, '--host', '0.0.0.0', '--allow-remote', '--dry-run'],
        io,
        { host },
      ),
      0,
      io.err(),
    );
    t.notMatch(io.out() + io.err(), 'a-long-client-key-123', 'the key is never printed');
    t.notMatch(io.out() + io.err(), 'static-token-value');
  },
);
