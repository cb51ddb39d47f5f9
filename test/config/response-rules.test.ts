import t from 'tap';
import { loadConfig } from '../../lib/config/load.js';
import { problemsAt, resolve, type Options } from '../fixtures/resolve-options.js';
import { tempDir } from '../fixtures/temp-config.js';

// RefreshOnBody, RetryOnStatus and MaxRetryWait: how they are written and what each mistake says.

const oauth: Options = {
  AuthenticationMethod: '53',
  ClientID: 'cid',
  ClientSecret: 'secret-value-0123',
  TokenURI: 'https://login.example.com/token',
  HostName: 'https://api.example.com',
};

t.test('the defaults: retry 429 and 503 for up to 30 s, no body rule', async (t) => {
  const { dsn, problems } = resolve(oauth);
  t.same(problems, []);
  t.same(dsn?.retryOnStatus, [429, 503]);
  t.equal(dsn?.maxRetryWaitSeconds, 30);
  t.equal(dsn?.refreshOnBody, undefined);
});

t.test('RefreshOnBody: conditions separated by spaces, [] optional, $. allowed', async (t) => {
  const { dsn, problems } = resolve({
    ...oauth,
    RefreshOnBody: 'errors[].code=601,602  $.error.code=InvalidAuthenticationToken',
  });
  t.same(problems, []);
  t.same(dsn?.refreshOnBody, [
    { path: 'errors.code', values: ['601', '602'] },
    { path: 'error.code', values: ['InvalidAuthenticationToken'] },
  ]);
});

t.test('RefreshOnBody mistakes name the condition and the spelling that works', async (t) => {
  const options = { ...oauth, RefreshOnBody: 'errors[].code errors[0].code=601 =1' };
  const { problems } = resolve(options);
  const fix = 'e.g. RefreshOnBody=errors[].code=601,602';
  t.same(
    problems,
    problemsAt(options, [
      [
        'error',
        'RefreshOnBody',
        '"errors[].code" in RefreshOnBody names no value to match',
        `write path=value[,value...], ${fix}`,
      ],
      [
        'error',
        'RefreshOnBody',
        '"errors[0].code" in RefreshOnBody is not a JSON path',
        `write keys separated by dots, with [] after a key that holds an array, ${fix}`,
      ],
      [
        'error',
        'RefreshOnBody',
        '"" in RefreshOnBody is not a JSON path',
        `write keys separated by dots, with [] after a key that holds an array, ${fix}`,
      ],
    ]),
  );
});

t.test('RefreshOnBody on a DSN without a token is a warning', async (t) => {
  const options: Options = {
    AuthenticationMethod: '34',
    SecurityToken: 'static-token-0123',
    HostName: 'https://api.example.com',
    RefreshOnBody: 'errors[].code=601',
  };
  t.same(
    resolve(options).problems,
    problemsAt(options, [
      [
        'warning',
        'RefreshOnBody',
        'RefreshOnBody has no effect: AuthenticationMethod=34 (BearerToken) has no token tokenshim could refresh',
        'remove RefreshOnBody, or use an OAuth method (50-56)',
      ],
    ]),
  );
});

t.test(
  'RetryOnStatus and MaxRetryWait are checked like the other statuses and numbers',
  async (t) => {
    const options = { ...oauth, RetryOnStatus: '429,200,busy', MaxRetryWait: '7200' };
    const { problems } = resolve(options);
    t.match(problems, [
      {
        severity: 'error',
        key: 'RetryOnStatus',
        message: '"200" in RetryOnStatus is not an HTTP error status',
      },
      {
        severity: 'error',
        key: 'RetryOnStatus',
        message: '"busy" in RetryOnStatus is not an HTTP error status',
      },
      {
        severity: 'error',
        key: 'MaxRetryWait',
        message: 'MaxRetryWait=7200 is not a whole number from 0 to 3600',
      },
    ]);
    const { dsn } = resolve({ ...oauth, RetryOnStatus: '429', MaxRetryWait: '0' });
    t.same([dsn?.retryOnStatus, dsn?.maxRetryWaitSeconds], [[429], 0]);
  },
);

t.test('in odbc.ini, a RefreshOnBody value is read whole', async (t) => {
  const file = tempDir(t).write(
    'odbc.ini',
    [
      '[marketo]',
      ...Object.entries(oauth).map(([k, v]) => `${k}=${v}`),
      'RefreshOnBody=errors[].code=601,602',
      '',
    ].join('\n'),
  );
  const { dsns, problems } = await loadConfig({ configPath: file, env: {} });
  t.same(
    problems.filter((p) => p.severity === 'error'),
    [],
  );
  t.same(dsns[0]?.refreshOnBody, [{ path: 'errors.code', values: ['601', '602'] }]);
});
