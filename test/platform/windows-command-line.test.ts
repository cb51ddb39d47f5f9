import t from 'tap';
import {
  quoteWindowsArgument,
  windowsCommandLine,
} from '../../lib/platform/windows-command-line.js';

/** CommandLineToArgvW's rules (the MSVC runtime's, post-2008), to read back what was quoted */
function parseWindowsCommandLine(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length) break;
    let arg = '';
    let quoted = false;
    for (; i < line.length; i++) {
      const ch = line[i];
      if (!quoted && (ch === ' ' || ch === '\t')) break;
      if (ch === '\\') {
        let n = 0;
        while (line[i] === '\\') {
          n++;
          i++;
        }
        if (line[i] === '"') {
          arg += '\\'.repeat(Math.floor(n / 2));
          if (n % 2 === 1) arg += '"';
          else quoted = !quoted;
        } else {
          arg += '\\'.repeat(n);
          i--;
        }
        continue;
      }
      if (ch === '"') quoted = !quoted;
      else arg += ch;
    }
    args.push(arg);
  }
  return args;
}

t.test('plain arguments stay as they are; spaces, quotes and empty ones are quoted', async (t) => {
  t.equal(quoteWindowsArgument('serve'), 'serve');
  t.equal(
    quoteWindowsArgument('C:\\ProgramData\\tokenshim\\odbc.ini'),
    'C:\\ProgramData\\tokenshim\\odbc.ini',
  );
  t.equal(
    quoteWindowsArgument('C:\\Program Files\\nodejs\\node.exe'),
    '"C:\\Program Files\\nodejs\\node.exe"',
  );
  t.equal(quoteWindowsArgument(''), '""');
  t.equal(
    quoteWindowsArgument('D:\\Qlik Data\\'),
    '"D:\\Qlik Data\\\\"',
    'a trailing backslash is doubled inside quotes',
  );
  t.equal(quoteWindowsArgument('say "hi"'), '"say \\"hi\\""');
});

t.test('every argument reads back unchanged', async (t) => {
  const cases = [
    ['C:\\Program Files\\tokenshim\\node_modules\\tokenshim\\dist\\lib\\cli\\bin.js', 'serve'],
    ['--config', 'D:\\Qlik Sense\\tokenshim config\\odbc.ini', '--log-file', 'E:\\logs\\'],
    ['a\\\\"b', 'tab\there', '\\\\server\\share\\odbc.ini', 'x\\', ''],
  ];
  for (const args of cases) t.same(parseWindowsCommandLine(windowsCommandLine(args)), args);
});
