import t from 'tap';
import {
  classifyFailure,
  type FailureContext,
  type FailureVerdict,
} from '../../../lib/auth/token/token-failure.js';
import {
  NeedsLoginError,
  RefreshLockTimeoutError,
  TokenEndpointError,
  TokenshimError,
  TokenStoreUnavailableError,
} from '../../../lib/errors.js';

const ctx: FailureContext = {
  dsn: 'crm',
  grantType: 'refresh_token',
  livesOnRefreshTokens: true,
  failuresBefore: 0,
  random: () => 0,
};

/** what the token endpoint module throws for an OAuth error answer */
function refused(error: string, httpStatus = 400): TokenEndpointError {
  return new TokenEndpointError(`DSN "crm": the token endpoint answered ${httpStatus} ${error}.`, {
    dsn: 'crm',
    error,
    errorDescription: `${error} said the server`,
    httpStatus,
    terminal: ['invalid_grant', 'invalid_client', 'unauthorized_client'].includes(error),
  });
}

function needsLogin(v: FailureVerdict): NeedsLoginError {
  if (v.kind !== 'needs-login') throw new Error(`expected needs-login, got ${v.kind}`);
  return v.error;
}

t.test('terminal refusals: needs login, with the advice that fits the grant', async (t) => {
  const cases: [
    name: string,
    e: TokenEndpointError,
    context: Partial<FailureContext>,
    message: RegExp,
    mentionsLogin: boolean,
  ][] = [
    [
      'a refresh token refused: log in',
      refused('invalid_grant'),
      {},
      /^DSN "crm" needs a new login: the token endpoint refused its grant \(invalid_grant: invalid_grant said the server\)\. Run `tokenshim login crm`/,
      true,
    ],
    [
      'a refused client: its hint after the server words, then the options to check',
      refused('invalid_client', 401),
      { grantType: 'client_credentials', livesOnRefreshTokens: false },
      /^DSN "crm" was refused by the token endpoint for good \(invalid_client: invalid_client said the server; check ClientID, ClientSecret and ClientCredentialsMode \(how the secret is sent\), or the ClientCertificate registered for the client\)\. Check ClientID and ClientSecret in \[crm\], and that the client may use the client_credentials grant, then reload tokenshim/,
      false,
    ],
    [
      'a refused client of a refresh-token DSN: no login advice either',
      refused('invalid_client', 401),
      {},
      /Check ClientID and ClientSecret in \[crm\]/,
      false,
    ],
    [
      'password grant',
      refused('invalid_grant'),
      { grantType: 'password', livesOnRefreshTokens: false },
      /for good \(invalid_grant: invalid_grant said the server\)\. Check User and Password in \[crm\]/,
      false,
    ],
    [
      'JWT bearer grant',
      refused('invalid_grant'),
      { grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer', livesOnRefreshTokens: false },
      /Check ClaimsIssuer, ClaimsSubject and JWTPrivateKeyFile in \[crm\]/,
      false,
    ],
    [
      'a custom grant',
      refused('invalid_grant'),
      { grantType: 'urn:qlik:oauth:user-impersonation', livesOnRefreshTokens: false },
      /Check the client and grant options in \[crm\] against the provider's documentation/,
      false,
    ],
  ];
  for (const [name, e, context, message, mentionsLogin] of cases) {
    const verdict = classifyFailure(e, { ...ctx, ...context });
    const error = needsLogin(verdict);
    t.match(verdict, { reason: 'oauth_error', httpStatus: e.httpStatus }, name);
    t.equal(error.code, 'TOKENSHIM_NEEDS_LOGIN', name);
    t.equal(error.cause, e, `${name}: the endpoint error is the cause`);
    t.match(error.message, message, name);
    t.equal(error.message.includes('tokenshim login'), mentionsLogin, `${name}: login advised`);
  }
});

t.test('a NeedsLoginError (no refresh token to redeem) is a config failure as it is', async (t) => {
  const e = new NeedsLoginError(
    'crm',
    'no refresh token: RefreshToken is not set and none is stored',
  );
  const verdict = classifyFailure(e, ctx);
  t.same(verdict, { kind: 'needs-login', error: e, reason: 'config' });
});

t.test('everything else is retried: reason, what callers see, when', async (t) => {
  const unavailable = 'TOKENSHIM_TOKEN_UNAVAILABLE';
  const cases: [name: string, e: unknown, reason: string, callerCode: string, status?: number][] = [
    [
      '5xx',
      new TokenEndpointError('DSN "crm": the token endpoint is unavailable (HTTP 503).', {
        httpStatus: 503,
      }),
      'status_5xx',
      unavailable,
      503,
    ],
    [
      '429',
      new TokenEndpointError('DSN "crm": the token endpoint is unavailable (HTTP 429).', {
        httpStatus: 429,
      }),
      'status_429',
      unavailable,
      429,
    ],
    [
      'unreachable',
      new TokenEndpointError('DSN "crm": cannot reach the token endpoint: ECONNREFUSED.', {}),
      'network',
      unavailable,
    ],
    ['not even a TokenshimError', new Error('socket hang up'), 'network', unavailable],
    [
      'an answer that is no token',
      new TokenEndpointError('DSN "crm": the token endpoint answered 200 with text/html.', {
        httpStatus: 200,
      }),
      'bad_response',
      unavailable,
      200,
    ],
    // the endpoint's own words say more than "no valid token"
    [
      'a retryable OAuth error',
      refused('invalid_scope'),
      'oauth_error',
      'TOKENSHIM_TOKEN_ENDPOINT',
      400,
    ],
    [
      'a config problem',
      new TokenshimError('TOKENSHIM_CONFIG', 'DSN "crm": JWTPrivateKeyFile cannot be read.'),
      'config',
      'TOKENSHIM_CONFIG',
    ],
    [
      'a broken token file',
      new TokenshimError('TOKENSHIM_TOKEN_STORE', 'the token store is not JSON'),
      'store',
      'TOKENSHIM_TOKEN_STORE',
    ],
    [
      'unreadable Redis data',
      new TokenshimError('TOKENSHIM_TOKEN_STORE_DATA', 'the entry is not JSON'),
      'store',
      'TOKENSHIM_TOKEN_STORE_DATA',
    ],
    [
      'Redis down',
      new TokenStoreUnavailableError({
        store: 'redis://r:6379/0',
        action: 'refresh',
        why: 'ECONNREFUSED',
      }),
      'store',
      'TOKENSHIM_TOKEN_STORE_UNAVAILABLE',
    ],
    [
      'the refresh lock held too long',
      new RefreshLockTimeoutError({ store: 'redis://r:6379/0', waitedMs: 30_000 }),
      'store',
      'TOKENSHIM_REFRESH_LOCK_TIMEOUT',
    ],
  ];
  for (const [name, e, reason, callerCode, status] of cases) {
    const verdict = classifyFailure(e, ctx);
    if (verdict.kind !== 'retry') {
      t.fail(`${name}: ${verdict.kind}`);
      continue;
    }
    t.equal(verdict.reason, reason, `${name}: reason`);
    t.equal(verdict.error.code, callerCode, `${name}: what callers see`);
    t.equal(verdict.httpStatus, status, `${name}: HTTP status`);
    t.equal(verdict.attempts, 1, `${name}: first failure`);
    t.equal(verdict.delayMs, 500, `${name}: the first backoff step`);
  }
});

t.test(
  'an endpoint that is down: callers are told no valid token is to be had, and why',
  async (t) => {
    const e = new TokenEndpointError(
      'DSN "crm": cannot reach the token endpoint (POST https://idp.example/token): ECONNREFUSED.',
      { dsn: 'crm' },
    );
    const verdict = classifyFailure(e, ctx);
    t.match(verdict, { kind: 'retry', detail: e });
    t.equal(
      verdict.error.message,
      'DSN "crm" has no valid access token: cannot reach the token endpoint (POST https://idp.example/token): ECONNREFUSED. ' +
        'tokenshim keeps retrying; check TokenURI and the network.',
    );
    const bare = classifyFailure(new Error('socket hang up'), ctx);
    t.match(bare, {
      detail: { code: 'TOKENSHIM_TOKEN_ENDPOINT', message: 'Error: socket hang up' },
    });
  },
);

t.test('backoff: failures in a row double the delay; Retry-After is honoured', async (t) => {
  const e = new TokenEndpointError('DSN "crm": unavailable (HTTP 503).', { httpStatus: 503 });
  const delays = [0, 1, 2, 3].map((before) => {
    const v = classifyFailure(e, { ...ctx, failuresBefore: before });
    return v.kind === 'retry' ? [v.attempts, v.delayMs] : undefined;
  });
  t.same(
    delays,
    [
      [1, 500],
      [2, 1000],
      [3, 2000],
      [4, 4000],
    ],
    'random() = 0: the fixed half',
  );
  const later = new TokenEndpointError('DSN "crm": unavailable (HTTP 429).', {
    httpStatus: 429,
    retryAfterMs: 30_000,
  });
  t.match(classifyFailure(later, ctx), { kind: 'retry', delayMs: 30_000 });
});

t.test(
  'probeInMs: while callers wait, the endpoint is tried again within 5 s whatever the backoff, unless it said Retry-After',
  async (t) => {
    const e = new TokenEndpointError('DSN "crm": unavailable (HTTP 503).', { httpStatus: 503 });
    const cases: [failuresBefore: number, delayMs: number, probeInMs: number][] = [
      [0, 500, 500],
      [3, 4_000, 4_000],
      [4, 8_000, 5_000],
      [12, 150_000, 5_000],
    ];
    for (const [before, delayMs, probeInMs] of cases) {
      t.match(
        classifyFailure(e, { ...ctx, failuresBefore: before }),
        { kind: 'retry', delayMs, probeInMs },
        `${before} failures before`,
      );
    }
    const asked = new TokenEndpointError('DSN "crm": unavailable (HTTP 429).', {
      httpStatus: 429,
      retryAfterMs: 30_000,
    });
    t.match(classifyFailure(asked, ctx), { delayMs: 30_000, probeInMs: 30_000 });
  },
);

t.test('failures of this machine are reported as themselves, not as the endpoint', async (t) => {
  const full = new TokenshimError('TOKENSHIM_DISK_FULL', 'DSN "crm" cannot save: disk full.', {
    status: 503,
  });
  t.match(classifyFailure(full, ctx), { kind: 'retry', reason: 'system', error: full });
});
