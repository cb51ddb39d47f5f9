import t from 'tap';
import {
  decodeSegment,
  explicitPort,
  findHost,
  firstSegmentEnd,
  joinPath,
  originOf,
  splitAbsoluteForm,
} from '../../../lib/proxy/routing/url-parts.js';

t.test('findHost reads the Host header from the raw list, any case', async (t) => {
  t.equal(findHost(['Accept', '*/*', 'HOST', 'a:1', 'host', 'b:2']), 'a:1', 'the first one');
  t.equal(findHost(['Hostname', 'x', 'Accept', '*/*']), undefined);
});

t.test('firstSegmentEnd stops at / or ? or the end', async (t) => {
  for (const [path, end] of [
    ['/crm/x', 4],
    ['/crm?x', 4],
    ['/crm', 4],
    ['/', 1],
    ['//x', 1],
  ] as const) {
    t.equal(firstSegmentEnd(path), end, path);
  }
});

t.test('splitAbsoluteForm', async (t) => {
  const cases: [string, ReturnType<typeof splitAbsoluteForm>][] = [
    ['http://api.example.com/x?y', { scheme: 'http', authority: 'api.example.com', path: '/x?y' }],
    ['HTTP://API.Example.com:80', { scheme: 'http', authority: 'api.example.com', path: '/' }],
    ['https://a.example:443/x', { scheme: 'https', authority: 'a.example', path: '/x' }],
    ['http://a.example:443/x', { scheme: 'http', authority: 'a.example:443', path: '/x' }],
    ['http://u:p@a.example:8080?q', { scheme: 'http', authority: 'a.example:8080', path: '/?q' }],
    ['http://[::1]:8790/x', { scheme: 'http', authority: '[::1]:8790', path: '/x' }],
    ['http://a.example#f', { scheme: 'http', authority: 'a.example', path: '/#f' }],
  ];
  for (const [url, want] of cases) t.same(splitAbsoluteForm(url), want, url);
});

t.test('explicitPort: none for a bare host or an IPv6 literal without port', async (t) => {
  t.equal(explicitPort('127.0.0.1:8790'), 8790);
  t.equal(explicitPort('[::1]:8790'), 8790);
  t.equal(explicitPort('[::1]'), undefined);
  t.equal(explicitPort('localhost'), undefined);
});

t.test('joinPath maps a client path onto a base path', async (t) => {
  for (const [base, rest, joined] of [
    ['/rest/v1', '/items?x', '/rest/v1/items?x'],
    ['/rest/v1', '?x', '/rest/v1?x'],
    ['/rest/v1', '', '/rest/v1'],
    ['', '', '/'],
    ['', '?x', '/?x'],
    ['', '/a', '/a'],
  ] as const) {
    t.equal(joinPath(base, rest), joined, `${base} + ${rest}`);
  }
});

t.test('decodeSegment and originOf leave what they cannot read as written', async (t) => {
  t.equal(decodeSegment('My%20Api'), 'My Api');
  t.equal(decodeSegment('plain'), 'plain');
  t.equal(decodeSegment('bad%zz'), 'bad%zz');
  t.equal(originOf('https://a.example:443/x?y'), 'https://a.example');
  t.equal(originOf('not a url'), 'not a url');
});
