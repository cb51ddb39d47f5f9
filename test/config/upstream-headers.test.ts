/**
 * AuthHeader + SecurityToken beside a credential, as DataDirect's refresh-token page prints them
 * (`AuthHeader=Authorization`, `SecurityToken=1a2bc34def567`): what each header carries, and a
 * warning for every configured value that is not sent.
 */
import t from 'tap';
import {
  HOST,
  REFRESH,
  expectProblems,
  resolve,
  type Expected,
  type Options,
} from '../fixtures/resolve-options.js';

const TENANT = { AuthHeader: 'X-Tenant-ID', SecurityToken: '1a2bc34def567' };

t.test('in OAuth modes, None and AccessToken, AuthHeader names one extra header', async (t) => {
  for (const options of [
    { ...REFRESH, ...TENANT },
    { AuthenticationMethod: '50', AccessToken: 'at', ...HOST, ...TENANT },
    { AuthenticationMethod: '15', ...HOST, ...TENANT },
  ]) {
    const { dsn, problems } = resolve(options);
    t.same(problems, [], options.AuthenticationMethod);
    t.same(dsn?.upstreamHeaders, [
      { name: 'X-Tenant-ID', value: '1a2bc34def567', from: 'SecurityToken' },
    ]);
  }
});

t.test('where SecurityToken is the credential, AuthHeader adds no header of its own', async (t) => {
  for (const options of [
    { AuthenticationMethod: '25', ...HOST, ...TENANT },
    { AuthenticationMethod: '0', User: 'u', Password: 'p', ...HOST, AuthHeader: 'X-Auth' },
  ]) {
    const { dsn, problems } = resolve(options);
    t.same(problems, []);
    t.same(dsn?.upstreamHeaders, [], options.AuthenticationMethod);
  }
});

const NOT_SENT: [string, Options, Expected[]][] = [
  [
    "DataDirect's own example in an OAuth mode: the access token keeps Authorization",
    { ...REFRESH, AuthHeader: 'Authorization', SecurityToken: '1a2bc34def567' },
    [
      [
        'warning',
        'AuthHeader',
        'AuthHeader=Authorization names the header the access token goes in: the token keeps it, and SecurityToken is not sent',
        'set AuthHeader to the header the API wants SecurityToken in (such as X-Tenant-ID), or remove AuthHeader and SecurityToken; for a fixed credential in Authorization instead of a token, use AuthenticationMethod=25',
      ],
    ],
  ],
  [
    'the same for the header TokenPlacement names, in any case',
    { ...REFRESH, TokenPlacement: 'header:X-Access', AuthHeader: 'x-access', SecurityToken: 'st' },
    [
      [
        'warning',
        'AuthHeader',
        'AuthHeader=x-access names the header the access token goes in: the token keeps it, and SecurityToken is not sent',
        'set AuthHeader to the header the API wants SecurityToken in (such as X-Tenant-ID), or remove AuthHeader and SecurityToken; for a fixed credential in x-access instead of a token, use AuthenticationMethod=25',
      ],
    ],
  ],
  [
    'BearerToken (34): AuthHeader has no effect',
    { AuthenticationMethod: '34', ...HOST, ...TENANT },
    [
      [
        'warning',
        'AuthHeader',
        'AuthHeader has no effect with AuthenticationMethod=34 (BearerToken): SecurityToken is the credential itself (Authorization: Bearer)',
        'remove AuthHeader, or use AuthenticationMethod=25 to send SecurityToken in the header it names',
      ],
    ],
  ],
  [
    'UrlParameter (14): AuthHeader has no effect',
    { AuthenticationMethod: '14', AuthParam: 'apikey', ...HOST, ...TENANT },
    [
      [
        'warning',
        'AuthHeader',
        'AuthHeader has no effect with AuthenticationMethod=14 (UrlParameter): SecurityToken is the credential itself (the AuthParam query parameter)',
        'remove AuthHeader, or use AuthenticationMethod=25 to send SecurityToken in the header it names',
      ],
    ],
  ],
];

t.test('a configured value that is not sent is a warning saying which and why', async (t) => {
  expectProblems(t, NOT_SENT);
  const { dsn } = resolve(NOT_SENT[0]![1]);
  t.same(dsn?.upstreamHeaders, [], 'nothing overrides the access token');
});
