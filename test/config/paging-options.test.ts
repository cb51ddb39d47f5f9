import t from 'tap';
import { loadConfig } from '../../lib/config/load.js';
import { describeDsn } from '../../lib/cli/describe-dsn.js';
import { parsePagingOption } from '../../lib/config/paging-option.js';
import { tempDir } from '../fixtures/temp-config.js';

const base = 'AuthenticationMethod=50;AccessToken=tok-0123456789;HostName=https://api.example.com';

t.test('RewriteBodyUrls is on unless a DSN says 0', async (t) => {
  const on = await loadConfig({ connect: base, env: {} });
  t.equal(on.dsns[0]!.rewriteBodyUrls, true);
  const off = await loadConfig({ connect: `${base};RewriteBodyUrls=0`, env: {} });
  t.equal(off.dsns[0]!.rewriteBodyUrls, false);
  t.match(
    describeDsn(off.dsns[0]!).join('\n'),
    /body URLs: +passed as the API wrote them \(RewriteBodyUrls=0\)/,
  );
  const bad = await loadConfig({ connect: `${base};RewriteBodyUrls=maybe`, env: {} });
  t.match(bad.problems, [
    { severity: 'error', key: 'RewriteBodyUrls', fix: /RewriteBodyUrls=1 or RewriteBodyUrls=0/ },
  ]);
});

t.test('Paging in odbc.ini: the ;-separated value is kept whole and parsed', async (t) => {
  const dir = tempDir(t);
  const file = dir.write(
    'odbc.ini',
    [
      '[graph]',
      'AuthenticationMethod=50',
      'AccessToken=tok-0123456789',
      'HostName=https://graph.microsoft.com/v1.0',
      'Paging=next-url;records=value;next=@odata.nextLink;max-pages=50',
      '',
    ].join('\n'),
  );
  const { dsns, problems } = await loadConfig({ configPath: file, env: {} });
  t.same(
    problems.filter((p) => p.severity === 'error'),
    [],
  );
  t.same(dsns[0]!.paging, {
    paging: 'next-url',
    records: 'value',
    next: '@odata.nextLink',
    maxPages: 50,
  });
});

t.test('Paging in a connection string: braced, or with & between the settings', async (t) => {
  const braced = await loadConfig({
    connect: `${base};Paging={offset;param=startAt;size=50;records=values}`,
    env: {},
  });
  t.same(braced.dsns[0]!.paging, {
    paging: 'offset',
    param: 'startAt',
    size: 50,
    records: 'values',
  });
  const amp = await loadConfig({
    connect: `${base};Paging=cursor&records=connections&next=nextPageToken&param=pageToken`,
    env: {},
  });
  t.same(amp.dsns[0]!.paging, {
    paging: 'cursor',
    records: 'connections',
    next: 'nextPageToken',
    param: 'pageToken',
  });
});

t.test(
  'a Paging value that cannot be used is an error naming the setting and the fix',
  async (t) => {
    const { dsns, problems } = await loadConfig({
      connect: `${base};Paging={pages;size=x;recrods=value}`,
      env: {},
    });
    t.same(dsns, []);
    t.match(problems, [
      {
        severity: 'error',
        key: 'Paging',
        message:
          /Paging=pages is not a paging style: use next-url, link, cursor, offset, page or none/,
        fix: /Paging=next-url;records=value;next=@odata.nextLink/,
      },
      { severity: 'error', key: 'Paging', message: /size=x is not a whole number from 1 up/ },
      {
        severity: 'error',
        key: 'Paging',
        message: /"recrods" in Paging is not a paging setting \(did you mean records\?\)/,
      },
    ]);
  },
);

t.test('a paging style named in the DSN must be complete there', async (t) => {
  t.same(parsePagingOption('cursor;records=items').problems, [
    'Paging=cursor needs next (the JSON path of the cursor, e.g. nextPageToken)',
    'Paging=cursor needs param (the query parameter that sends it back, e.g. pageToken)',
  ]);
  t.same(parsePagingOption('next-url').problems, [
    'Paging=next-url needs next (the JSON path of the next page URL, e.g. @odata.nextLink or links.next.href)',
  ]);
  t.same(parsePagingOption('page;param=page').problems, []);
  t.same(
    parsePagingOption('max-pages=20').problems,
    [],
    'defaults without a style: requests add the style',
  );
  t.same(parsePagingOption('link;size').problems, [
    '"size" in Paging has no value: write key=value, e.g. size=100',
  ]);
  t.same(parsePagingOption('link;max-pages=0').problems, [
    'max-pages=0 is not a whole number from 1 to 100000',
  ]);
  t.same(parsePagingOption('link;next=$').problems, [
    'next=$ names the whole page: give the key that holds the next URL or cursor',
  ]);
});
