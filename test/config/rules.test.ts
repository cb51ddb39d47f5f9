/** The cross-field rules of lib/config/rules.ts, each with the DSNs that break it. */
import t from 'tap';
import { CROSS_FIELD_RULES } from '../../lib/config/rules.js';
import {
  HOST,
  REFRESH,
  TOKEN_URI,
  expectProblems,
  type Expected,
  type Options,
} from '../fixtures/resolve-options.js';

/** [rule, options, every problem it produces, in order] */
const CASES: [string, Options, Expected[]][] = [
  [
    'requiredByMethod: every option the method needs',
    { AuthenticationMethod: '55', ...HOST },
    ['TokenURI', 'ClaimsIssuer', 'ClaimsSubject', 'JWTPrivateKeyFile'].map((o): Expected => [
      'error',
      undefined,
      `${o} is missing; AuthenticationMethod=55 (OAuth2-JWTBearer) needs it`,
      `add ${o}=... to [d]`,
    ]),
  ],
  [
    'requiredByMethod: legacy 24 needs what its resolved grant needs',
    { AuthenticationMethod: '24', User: 'u', Password: 'p', ...HOST },
    [
      [
        'error',
        undefined,
        'TokenURI is missing; AuthenticationMethod=52 (OAuth2-Password) needs it',
        'add TokenURI=... to [d]',
      ],
    ],
  ],
  [
    'refreshTokenMissing: a warning, the DSN still loads',
    { ...REFRESH, RefreshToken: '' },
    [
      [
        'warning',
        undefined,
        'RefreshToken is not set: tokenshim will use one from the token store if `tokenshim login` saved one',
        'run `tokenshim login d`, or add RefreshToken=... to [d]',
      ],
    ],
  ],
  [
    'oauthCodeMissing: a warning, the DSN still loads',
    { AuthenticationMethod: '51', ClientID: 'c', TokenURI: TOKEN_URI, ...HOST },
    [
      [
        'warning',
        undefined,
        'neither OAuthCode nor RefreshToken is set',
        'run `tokenshim login d`, or add OAuthCode=... to [d]',
      ],
    ],
  ],
  [
    'authHeaderNeedsSecurityToken (OAuth modes)',
    { ...REFRESH, AuthHeader: 'X-Tenant' },
    [
      [
        'error',
        'AuthHeader',
        'AuthHeader is set but SecurityToken is empty: in OAuth modes they add one extra header together',
        'set SecurityToken=..., or remove AuthHeader',
      ],
    ],
  ],
  [
    'tokenSchemeNeedsHeader: a warning',
    { ...REFRESH, TokenPlacement: 'query:access_token', TokenScheme: 'Bearer' },
    [
      [
        'warning',
        'TokenScheme',
        'TokenScheme has no effect when TokenPlacement puts the token in the query string',
        'remove TokenScheme, or place the token in a header',
      ],
    ],
  ],
  [
    'exposeTokensNeedsAdminKey',
    { ...HOST, ExposeTokens: '1' },
    [
      [
        'error',
        'ExposeTokens',
        'ExposeTokens=1 needs an AdminKey',
        'set AdminKey to a long random string',
      ],
    ],
  ],
  [
    'prefetchNeedsOneToken: a static credential has nothing to fetch',
    { ...HOST, AuthenticationMethod: '34', SecurityToken: 's', Prefetch: '1' },
    [
      [
        'warning',
        'Prefetch',
        'Prefetch=1 has no effect: AuthenticationMethod=34 has no token to fetch',
        'remove Prefetch',
      ],
    ],
  ],
  [
    'prefetchNeedsOneToken: a per-user DSN has one token per user',
    { ...REFRESH, TokenParams: 'subject={user}', Prefetch: '1' },
    [
      [
        'warning',
        'Prefetch',
        'Prefetch=1 has no effect: the DSN issues one token per user (TokenParams with {user}), fetched when a user first asks',
        'remove Prefetch',
      ],
    ],
  ],
  ['prefetchNeedsOneToken: an OAuth DSN is kept fresh', { ...REFRESH, Prefetch: '1' }, []],
];

t.test('each rule: the exact problems; errors refuse the DSN, warnings do not', async (t) => {
  expectProblems(t, CASES);
});

t.test('the cross-field rules, by name', async (t) => {
  t.same(
    CROSS_FIELD_RULES.map((r) => r.name),
    [
      'requiredByMethod',
      'refreshTokenMissing',
      'oauthCodeMissing',
      'authHeaderNeedsSecurityToken',
      'tokenSchemeNeedsHeader',
      'exposeTokensNeedsAdminKey',
      'prefetchNeedsOneToken',
    ],
  );
});
