import t from 'tap';
import { looksBinary, parseOdbcIni } from '../../lib/config/odbc-ini.js';

const parse = (text: string) => parseOdbcIni(text, 'odbc.ini');
const values = (text: string) =>
  Object.fromEntries(parse(text).sections.flatMap((s) => s.entries.map((e) => [e.key, e.value])));

t.test('sections, keys and line numbers', async (t) => {
  const { sections, problems } = parse(
    '; comment\n[ODBC Data Sources]\nmkto=DataDirect\n\n[mkto]\nClientID=abc\r\n# x\nScope=read write\n',
  );
  t.same(problems, []);
  t.same(
    sections.map((s) => [s.name, s.line, s.entries.map((e) => [e.key, e.value, e.line])]),
    [
      ['ODBC Data Sources', 2, [['mkto', 'DataDirect', 3]]],
      [
        'mkto',
        5,
        [
          ['ClientID', 'abc', 6],
          ['Scope', 'read write', 8],
        ],
      ],
    ],
  );
});

t.test(
  '# and ; inside a value are kept whole (the ini package alone would cut them)',
  async (t) => {
    t.same(values('[d]\nClientSecret=ab#cd;ef\n'), { ClientSecret: 'ab#cd;ef' });
    t.same(values('[d]\nClientSecret=ab#cd;ef;\n'), { ClientSecret: 'ab#cd;ef' });
    t.same(values('[d]\nTokenURI=https://x/token?a=1#frag\n'), {
      TokenURI: 'https://x/token?a=1#frag',
    });
  },
);

t.test("a trailing ; copied from DataDirect's docs is not part of the value", async (t) => {
  t.same(values('[d]\nAuthenticationMethod=54;\nClientID=abc;\n'), {
    AuthenticationMethod: '54',
    ClientID: 'abc',
  });
});

t.test('quoted values keep everything inside the quotes', async (t) => {
  t.same(values('[d]\nClientSecret="a #b; c;"\nScope=\'x ;y\'\n'), {
    ClientSecret: 'a #b; c;',
    Scope: 'x ;y',
  });
});

t.test(
  'a # or ; after a space is ambiguous: refused with the key, the line and the quoting fix',
  async (t) => {
    const { sections, problems } = parse('[crm]\nClientID=abc\nClientSecret=ab #cd\n');
    t.same(
      sections[0]?.entries.map((e) => e.key),
      ['ClientID'],
    );
    t.equal(problems.length, 1);
    t.match(problems[0], {
      severity: 'error',
      line: 3,
      dsn: 'crm',
      key: 'ClientSecret',
      message: /" #" after a space/,
      fix: /ClientSecret="\.\.\."/,
    });
    t.notMatch(JSON.stringify(problems), /cd/, 'the secret is not echoed');
  },
);

t.test('a CR or NUL inside a value is refused without echoing the value', async (t) => {
  for (const text of ['[d]\nClientSecret=ab\rcd\n', '[d]\nClientSecret=ab\0cd\n']) {
    const { sections, problems } = parse(text);
    t.same(sections[0]?.entries, []);
    t.match(problems, [
      { severity: 'error', line: 2, key: 'ClientSecret', message: /carriage return or NUL/ },
    ]);
    t.notMatch(JSON.stringify(problems), /abcd|ab.cd/);
  }
});

t.test('lines that are neither sections nor Key=Value, and keys before any section', async (t) => {
  t.match(parse('just text\n').problems, [
    { line: 1, message: /neither a \[section\] nor a Key=Value/ },
  ]);
  t.match(parse('Key=1\n[d]\n').problems, [
    { line: 1, key: 'Key', message: /before any \[DSN\] section/ },
  ]);
  t.match(parse('[]\n').problems, [{ line: 1, message: /has no name/ }]);
});

t.test('binary detection', async (t) => {
  t.equal(looksBinary(Buffer.from('[d]\nA=1\n')), false);
  t.equal(looksBinary(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d])), true);
  t.equal(looksBinary(Buffer.from([0xff, 0xfe, 0x41])), true, 'invalid UTF-8');
  t.equal(
    looksBinary(Buffer.from('[d]\nA=a\0b\n')),
    false,
    'one stray NUL is reported against its value',
  );
});

t.test('quoting styles the ini guard accepts, each unquoted', async (t) => {
  t.same(
    values('[d]\nTokenStore="C:\\Program Files\\tokenshim\\tokens.json"\n'),
    {
      TokenStore: 'C:\\Program Files\\tokenshim\\tokens.json',
    },
    'double quotes: the path without them, backslashes kept',
  );
  t.same(
    values('[d]\nTokenStore="C:\\tokens\\new.json"\n'),
    {
      TokenStore: 'C:\\tokens\\new.json',
    },
    '\\t and \\n in a quoted path stay backslashes',
  );
  t.same(
    values("[d]\nRestConfigFile='C:\\path\\to\\my rest.rest'\n"),
    {
      RestConfigFile: 'C:\\path\\to\\my rest.rest',
    },
    'single quotes',
  );
  t.same(
    values('[d]\nTokenStore="\\\\server\\share\\tokens.json"\n'),
    {
      TokenStore: '\\\\server\\share\\tokens.json',
    },
    'a UNC path keeps its leading double backslash',
  );
  t.same(
    values('[d]\nClientSecret="ab\\"cd"\nScope=\'it\\\'s\'\n'),
    {
      ClientSecret: 'ab"cd',
      Scope: "it's",
    },
    'a backslash escapes the quote character itself',
  );
  t.same(
    values("[d]\nClientSecret='123'\nExposeTokens='true'\n"),
    {
      ClientSecret: '123',
      ExposeTokens: 'true',
    },
    'a quoted number stays a string',
  );
  t.same(values('[d]\nClientSecret=""\n'), { ClientSecret: '' }, 'empty quotes');
  t.same(
    values('[d]\nClientSecret="a;b";\nScope="x y" ; the scopes\nUser=\'u#1\' # admin\n'),
    {
      ClientSecret: 'a;b',
      Scope: 'x y',
      User: 'u#1',
    },
    "DataDirect's trailing ; or a comment after the closing quote",
  );
  t.same(
    values('[d]\nClientSecret=ab\\;cd\\#ef\n'),
    { ClientSecret: 'ab;cd#ef' },
    'backslash escapes',
  );
  t.same(
    values('[d]\nDescription=say "hi" now\n'),
    { Description: 'say "hi" now' },
    'inner quotes',
  );
});
