import { createHash } from 'node:crypto';
import t from 'tap';
import type { StoredTokens } from '../../../lib/auth/stores/token-store.js';
import type { AccessToken } from '../../../lib/auth/token/access-token.js';
import { TokenLineage } from '../../../lib/auth/token/token-lineage.js';
import type { TokenSet } from '../../../lib/auth/token-endpoint.js';
import type { DsnConfig } from '../../../lib/config/dsn.js';
import { makeDsn } from '../../fixtures/make-dsn.js';

function sha256(v: string): string {
  return createHash('sha256').update(v).digest('hex');
}

type Overrides = Parameters<typeof makeDsn>[0];

function dsn(o: Overrides = {}): DsnConfig {
  return makeDsn({
    name: 'crm',
    method: 54,
    grantType: 'refresh_token',
    clientId: 'cid',
    scope: 'api',
    tokenEndpoint: { method: 'POST', url: new URL('https://idp.example/token') },
    ...o,
  });
}

function lineageOf(o: Overrides = {}, user?: string): TokenLineage {
  const d = dsn(o);
  return new TokenLineage(d, d.grantType ?? 'refresh_token', user);
}

const token: AccessToken = {
  accessToken: 'at-1',
  tokenType: 'Bearer',
  obtainedAt: 1_000,
  expiresAt: 3_601_000,
};

function set(o: Partial<TokenSet> = {}): TokenSet {
  return { ...token, lifetimeSource: 'expires_in', ...o };
}

t.test(
  'at start the stored refresh token wins unless the config value changed since',
  async (t) => {
    const cases: [
      name: string,
      configRefreshToken: string | undefined,
      stored: StoredTokens | undefined,
      held: string | undefined,
      descends: boolean,
    ][] = [
      ['nothing stored: the config value', 'rt-config', undefined, 'rt-config', false],
      [
        'stored after a rotation of the config value: the stored one',
        'rt-config',
        { refreshToken: 'rt-rotated', configRefreshTokenHash: sha256('rt-config'), updatedAt: 5 },
        'rt-rotated',
        true,
      ],
      [
        'a new value pasted into the config: the config one',
        'rt-pasted',
        { refreshToken: 'rt-rotated', configRefreshTokenHash: sha256('rt-config'), updatedAt: 5 },
        'rt-pasted',
        false,
      ],
      [
        'no RefreshToken in the config (tokenshim login): the stored one',
        undefined,
        { refreshToken: 'rt-login', updatedAt: 5 },
        'rt-login',
        true,
      ],
      [
        'the entry holds no refresh token: the config value',
        'rt-config',
        { configRefreshTokenHash: sha256('rt-config'), updatedAt: 5 },
        'rt-config',
        true,
      ],
    ];
    for (const [name, configRefreshToken, stored, held, descends] of cases) {
      const lineage = lineageOf({ refreshToken: configRefreshToken });
      t.equal(lineage.start(stored), descends, `${name}: descends`);
      t.equal(lineage.refreshToken, held, `${name}: refresh token`);
    }
  },
);

t.test('under the lock a stored refresh token replaces the held one only if as new', async (t) => {
  const base = { configRefreshTokenHash: sha256('rt-config') };
  const cases: [name: string, stored: StoredTokens | undefined, held: string][] = [
    ['newer', { ...base, refreshToken: 'rt-newer', updatedAt: 200 }, 'rt-newer'],
    ['as new', { ...base, refreshToken: 'rt-same-age', updatedAt: 100 }, 'rt-same-age'],
    [
      'older: a stale file left by a failed save',
      { ...base, refreshToken: 'rt-old', updatedAt: 50 },
      'rt-held',
    ],
    ['another lineage', { refreshToken: 'rt-other', updatedAt: 500 }, 'rt-held'],
    ['nothing stored', undefined, 'rt-held'],
  ];
  for (const [name, stored, held] of cases) {
    const lineage = lineageOf({ refreshToken: 'rt-config' });
    lineage.start({ ...base, refreshToken: 'rt-held', updatedAt: 100 });
    lineage.adoptIfNewer(stored);
    t.equal(lineage.refreshToken, held, name);
  }
});

t.test(
  'after a refusal another stored refresh token of the same lineage is adopted (a login, an instance that won the race); one from a replaced config never',
  async (t) => {
    const lineage = lineageOf({ refreshToken: 'rt-config' });
    const base = { configRefreshTokenHash: sha256('rt-config') };
    t.equal(
      lineage.adoptIfDifferent({ ...base, refreshToken: 'rt-config', updatedAt: 9 }),
      undefined,
      'the same one',
    );
    t.equal(lineage.adoptIfDifferent({ ...base, updatedAt: 9 }), undefined, 'none');
    t.equal(lineage.adoptIfDifferent(undefined), undefined, 'nothing stored');
    t.equal(
      lineage.adoptIfDifferent({
        refreshToken: 'rt-old-chain',
        configRefreshTokenHash: sha256('rt-replaced'),
        updatedAt: 50,
      }),
      undefined,
      'a chain that started from a RefreshToken the config no longer has: never resumed',
    );
    t.equal(
      lineage.adoptIfDifferent({ refreshToken: 'rt-no-origin', updatedAt: 50 }),
      undefined,
      'an entry that says nothing of its origin, while the config has a RefreshToken',
    );
    t.equal(
      lineage.adoptIfDifferent({ ...base, refreshToken: 'rt-login', updatedAt: 1 }),
      'rt-login',
    );
    t.equal(lineage.refreshToken, 'rt-login');

    const noConfigToken = lineageOf({ refreshToken: undefined });
    t.equal(
      noConfigToken.adoptIfDifferent({ refreshToken: 'rt-login', updatedAt: 1 }),
      'rt-login',
      'no RefreshToken in the config: what tokenshim login stored',
    );
  },
);

t.test(
  'a token response: rotation is noticed and kept; what is written says where it came from',
  async (t) => {
    const lineage = lineageOf({ refreshToken: 'rt-config' });
    lineage.start(undefined);
    t.equal(lineage.received(set({ refreshToken: 'rt-2' }), false), true, 'rotated');
    t.equal(lineage.refreshToken, 'rt-2');
    t.equal(lineage.received(set({ refreshToken: 'rt-2' }), false), false, 'the same one again');
    t.equal(lineage.received(set(), false), false, 'none sent: the held one stays');
    t.equal(lineage.refreshToken, 'rt-2');

    const entry = lineage.entryFor(token);
    t.match(entry, {
      refreshToken: 'rt-2',
      configRefreshTokenHash: sha256('rt-config'),
      configFingerprint: /^[0-9a-f]{64}$/,
      accessToken: 'at-1',
      tokenType: 'Bearer',
      expiresAt: token.expiresAt,
      updatedAt: token.obtainedAt,
    });
    t.notOk('configOAuthCodeHash' in entry, 'no OAuthCode was spent');

    // a restart with the same config takes it all back
    const restarted = lineageOf({ refreshToken: 'rt-config' });
    t.equal(restarted.start(entry), true);
    t.equal(restarted.refreshToken, 'rt-2');
    t.same(restarted.storedAccessToken(entry), token);
  },
);

t.test('an OAuthCode is exchanged once, and a restart knows it', async (t) => {
  const config = { method: 51, grantType: 'authorization_code', oauthCode: 'code-1' } as const;
  const first = lineageOf(config);
  first.start(undefined);
  t.equal(first.oauthCodeUsed, false);
  first.received(set({ refreshToken: 'rt-from-code' }), true);
  t.equal(first.oauthCodeUsed, true);
  const entry = first.entryFor(token);
  t.equal(entry.configOAuthCodeHash, sha256('code-1'));

  const restarted = lineageOf(config);
  restarted.start(entry);
  t.equal(restarted.oauthCodeUsed, true, 'the same code: spent');
  const newCode = lineageOf({ ...config, oauthCode: 'code-2' });
  newCode.start(entry);
  t.equal(newCode.oauthCodeUsed, false, 'a new code in the config: not spent');
});

t.test(
  'a stored access token is reused only if requested the same way and not rejected',
  async (t) => {
    const entry = lineageOf().entryFor(token);
    t.same(lineageOf().storedAccessToken(entry), token, 'the same request');
    t.equal(lineageOf({ scope: 'api admin' }).storedAccessToken(entry), undefined, 'another scope');
    t.equal(
      lineageOf({
        tokenEndpoint: { method: 'POST', url: new URL('https://other.example/token') },
      }).storedAccessToken(entry),
      undefined,
      'another token endpoint',
    );
    t.equal(lineageOf({}, 'alice').storedAccessToken(entry), undefined, 'another user');
    const chained = lineageOf({ refreshToken: 'rt-old' }).entryFor(token);
    t.equal(
      lineageOf({ refreshToken: 'rt-new' }).storedAccessToken(chained),
      undefined,
      'issued to the chain of a RefreshToken the config has replaced',
    );
    t.equal(
      lineageOf().storedAccessToken({ ...entry, expiresAt: undefined }),
      undefined,
      'no expiry',
    );
    t.match(
      lineageOf().storedAccessToken({
        ...entry,
        tokenType: undefined,
        updatedAt: token.expiresAt + 5,
      }),
      { tokenType: 'Bearer', obtainedAt: token.expiresAt },
      'Bearer by default; never obtained after it expired',
    );

    const lineage = lineageOf();
    lineage.invalidate('at-1');
    t.equal(lineage.storedAccessToken(entry), undefined, 'rejected by the upstream here');
    for (let i = 2; i <= 9; i++) lineage.invalidate(`at-${i}`);
    t.same(lineage.storedAccessToken(entry), token, 'the last 8 rejected tokens are remembered');
  },
);

t.test('a rejected access token is dropped from the stored entry, the rest kept', async (t) => {
  const lineage = lineageOf({ refreshToken: 'rt-config' });
  lineage.start(undefined);
  const entry = lineage.entryFor(token);
  t.equal(lineage.withoutRejected(entry), undefined, 'not rejected: nothing to rewrite');
  t.equal(lineage.withoutRejected(undefined), undefined, 'nothing stored');
  lineage.invalidate('at-1');
  const rewritten = lineage.withoutRejected(entry);
  t.same(
    rewritten,
    {
      refreshToken: 'rt-config',
      configRefreshTokenHash: sha256('rt-config'),
      configFingerprint: entry.configFingerprint,
      updatedAt: token.obtainedAt,
    },
    'refresh token and origin kept; access token, type and expiry gone',
  );
  const restarted = lineageOf({ refreshToken: 'rt-config' });
  restarted.start(rewritten);
  t.equal(restarted.storedAccessToken(rewritten!), undefined, 'a restart has no token to load');
});

t.test('an entry written by tokenshim logout ends the lineage', async (t) => {
  const configHash = sha256('rt-config');
  const logout: StoredTokens = {
    configRefreshTokenHash: configHash,
    loggedOutAt: 50,
    updatedAt: 50,
  };

  const atStart = lineageOf({ refreshToken: 'rt-config' });
  t.equal(atStart.start(logout), true);
  t.equal(atStart.refreshToken, undefined, "not the config's RefreshToken it descends from");
  t.equal(atStart.loggedOut, true);

  const pasted = lineageOf({ refreshToken: 'rt-pasted-since' });
  pasted.start(logout);
  t.equal(pasted.refreshToken, 'rt-pasted-since', 'a RefreshToken pasted since starts over');
  t.equal(pasted.loggedOut, false);

  const running = lineageOf({ refreshToken: 'rt-config' });
  running.start(undefined);
  running.received(set({ refreshToken: 'rt-2', obtainedAt: 10 }), false);
  running.adoptIfNewer({ ...logout, updatedAt: 5, loggedOutAt: 5 });
  t.equal(running.refreshToken, 'rt-2', 'an older logout entry does not end a newer token');
  running.adoptIfNewer(logout);
  t.equal(running.refreshToken, undefined, 'under the lock, a running instance stops redeeming');
  t.equal(running.loggedOut, true);

  t.equal(
    running.adoptIfDifferent({
      refreshToken: 'rt-login',
      configRefreshTokenHash: configHash,
      updatedAt: 60,
    }),
    'rt-login',
    'a login after the logout is adopted',
  );
  t.equal(running.loggedOut, false);
});
