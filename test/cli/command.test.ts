import t from 'tap';
import { defineCommand, helpText, runCommand } from '../../lib/cli/command.js';
import { reportCommandErrors } from '../../lib/cli/command-errors.js';
import { UsageError } from '../../lib/cli/io.js';
import { COMMANDS, main } from '../../lib/cli/main.js';
import { ConfigError, NeedsLoginError } from '../../lib/errors.js';
import { captureIo } from '../fixtures/capture-io.js';

t.test(
  'every entry of the command table loads the command it names, with its --help',
  async (t) => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      t.equal(command.name, entry.name);
      const io = captureIo();
      t.equal(await main([entry.name, '--help'], io), 0, entry.name);
      t.equal(io.out(), helpText(command));
      t.match(io.out(), new RegExp(`^Usage: tokenshim ${entry.name} `));
      t.match(io.out(), /\n {2}-h, --help +show this help\n/);
      t.match(io.out(), /\nExit status: 0 /);
      t.equal(io.err(), '');
    }
  },
);

t.test('a command is one definition: parsing, --help and positionals come from it', async (t) => {
  const seen: unknown[] = [];
  const greet = defineCommand({
    name: 'greet',
    usage: '<NAME> [--loud] [--times N]',
    about: 'Says hello.',
    options: {
      loud: { type: 'boolean', short: 'l', default: false, help: 'shout' },
      times: { type: 'string', value: 'N', help: 'how often\nat most 3' },
    },
    positional: 'NAME',
    exitStatus: '0 greeted.',
    run: async ({ values, positionals }, io) => {
      seen.push({ values: { ...values }, positionals });
      io.stdout.write('hello\n');
      return 0;
    },
  });
  const io = captureIo();
  t.equal(await runCommand(greet, ['ann', '-l', '--times', '2'], io), 0);
  t.same(seen, [{ values: { loud: true, times: '2' }, positionals: ['ann'] }]);
  t.equal(
    helpText(greet),
    'Usage: tokenshim greet <NAME> [--loud] [--times N]\n\nSays hello.\n\nOptions:\n' +
      '  -l, --loud  shout\n' +
      '  --times N   how often\n' +
      '              at most 3\n' +
      '  -h, --help  show this help\n\nExit status: 0 greeted.\n',
  );
  const cases: [string[], RegExp][] = [
    [['ann', 'bob'], /^tokenshim greet: one NAME at a time \(got ann, bob\)\n/],
    [['--shout'], /^tokenshim greet: Unknown option '--shout'/],
    [['--times'], /^tokenshim greet: Option '--times <value>' argument missing/],
  ];
  for (const [argv, message] of cases) {
    const bad = captureIo();
    t.equal(await runCommand(greet, argv, bad), 2, argv.join(' '));
    t.match(bad.err(), message);
    t.match(bad.err(), /\nRun tokenshim greet --help for its options\.\n$/);
  }
  t.equal(seen.length, 1, 'run is not called for bad arguments');
});

t.test('errors are reported once, by kind, with the exit code', async (t) => {
  const secret = 'refresh-token-9f8e7d6c5b';
  const cases: [string, unknown, number, RegExp][] = [
    [
      'usage',
      new UsageError('pass --user NAME'),
      2,
      /^tokenshim x: pass --user NAME\nRun tokenshim x --help for its options\.\n$/,
    ],
    [
      'configuration',
      new ConfigError('[crm]: TokenURI is missing'),
      2,
      /^tokenshim x: \[crm\]: TokenURI is missing\n$/,
    ],
    [
      'tokenshim',
      new NeedsLoginError('crm', 'invalid_grant'),
      1,
      /^tokenshim x: DSN "crm" needs a new login: .*tokenshim login crm.*\n$/,
    ],
    [
      'a system call',
      Object.assign(new Error(`ENOTDIR: not a directory, mkdir '/srv/a-file/ca'`), {
        code: 'ENOTDIR',
        syscall: 'mkdir',
        path: '/srv/a-file/ca',
      }),
      1,
      /^tokenshim x: mkdir \/srv\/a-file\/ca failed \(ENOTDIR\)\n$/,
    ],
    [
      'a bug',
      new TypeError(`cannot read ${secret}`),
      1,
      /^tokenshim x: failed with an unexpected TypeError; please report it\.\n$/,
    ],
    [
      'a thrown string',
      secret,
      1,
      /^tokenshim x: failed with an unexpected string; please report it\.\n$/,
    ],
  ];
  for (const [kind, error, code, output] of cases) {
    const io = captureIo();
    t.equal(
      await reportCommandErrors('x', io, () => Promise.reject(error)),
      code,
      `${kind}: exit ${code}`,
    );
    t.match(io.err(), output, kind);
    t.notMatch(io.err(), secret, `${kind}: no secret`);
  }
});

t.test('main: unknown commands and bare `tokenshim` are usage errors', async (t) => {
  const unknown = captureIo();
  t.equal(await main(['frobnicate'], unknown), 2);
  t.match(unknown.err(), /^tokenshim: unknown command "frobnicate"\n\nUsage: tokenshim <command>/);
  const bare = captureIo();
  t.equal(await main([], bare), 2);
  t.match(bare.out(), /Commands:\n {2}serve /);
  const bad = captureIo();
  t.equal(await main(['token', '--bogus'], bad), 2);
  t.equal(bad.err().split('tokenshim token:').length, 2, 'reported once');
});
