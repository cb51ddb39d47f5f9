import t from 'tap';
import { SignJWT } from 'jose';
import {
  clientSecretBasic,
  clientSecretPost,
  clientSecretQuery,
  noClientAuth,
} from '../../lib/auth/client-auth.js';
import {
  buildTokenRequest,
  parseTokenResponse,
  type RawTokenResponse,
} from '../../lib/auth/token-endpoint.js';
import type { TokenEndpoint } from '../../lib/config/dsn.js';
import { tokenParamsNeedUser } from '../../lib/config/values/token-params.js';
import { TokenEndpointError } from '../../lib/errors.js';

const post: TokenEndpoint = { method: 'POST', url: new URL('https://idp.example/oauth/token') };
const get: TokenEndpoint = {
  method: 'GET',
  url: new URL('https://mkto.example/identity/oauth/token?tenant=7'),
};
const refresh: [string, string][] = [
  ['grant_type', 'refresh_token'],
  ['refresh_token', 'rt-1'],
];

t.test('buildTokenRequest', async (t) => {
  t.test('POST form: grant, scope, TokenParams, client auth', async (t) => {
    const req = buildTokenRequest({
      endpoint: post,
      format: 'form',
      grant: refresh,
      scope: 'read write',
      tokenParams: {
        kind: 'form',
        pairs: [
          ['audience', 'https://api'],
          ['grant_type', 'password'],
        ],
      },
      clientAuth: clientSecretPost('cid', 'sec'),
    });
    t.equal(req.method, 'POST');
    t.equal(req.url.href, 'https://idp.example/oauth/token');
    t.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
    t.equal(req.headers['accept'], 'application/json');
    const body = new URLSearchParams(req.body);
    t.same(body.getAll('grant_type'), ['refresh_token'], 'TokenParams never overwrite grant_type');
    t.equal(body.get('refresh_token'), 'rt-1');
    t.equal(body.get('scope'), 'read write', 'scope is sent on refresh too');
    t.equal(body.get('audience'), 'https://api');
    t.equal(body.get('client_secret'), 'sec');
  });

  t.test('GET (DataDirect default): every parameter in the query string, no body', async (t) => {
    const req = buildTokenRequest({
      endpoint: get,
      format: 'form',
      grant: [['grant_type', 'client_credentials']],
      clientAuth: clientSecretQuery('cid', 'sec'),
    });
    t.equal(req.method, 'GET');
    t.equal(req.body, undefined);
    t.equal(req.headers['content-type'], undefined);
    const q = req.url.searchParams;
    t.equal(q.get('tenant'), '7', 'the TokenURI query survives');
    t.equal(q.get('grant_type'), 'client_credentials');
    t.equal(q.get('client_id'), 'cid');
    t.equal(q.get('client_secret'), 'sec');
  });

  t.test('GET with client_secret_post style credentials still travels in the query', async (t) => {
    const req = buildTokenRequest({
      endpoint: get,
      format: 'form',
      grant: refresh,
      clientAuth: clientSecretPost('cid', 'sec'),
    });
    t.equal(req.url.searchParams.get('client_secret'), 'sec');
    t.equal(req.body, undefined);
  });

  t.test(
    'ClientCredentialsMode 2 on POST: credentials in the URL, grant in the body',
    async (t) => {
      const req = buildTokenRequest({
        endpoint: post,
        format: 'form',
        grant: refresh,
        clientAuth: clientSecretQuery('cid', 'sec'),
      });
      t.equal(req.url.searchParams.get('client_id'), 'cid');
      t.equal(new URLSearchParams(req.body).get('client_secret'), null);
    },
  );

  t.test(
    'TokenRequestFormat=json (Qlik Cloud): JSON body, TokenParams objects merged, {user} replaced',
    async (t) => {
      const req = buildTokenRequest({
        endpoint: post,
        format: 'json',
        grant: [['grant_type', 'urn:qlik:oauth:user-impersonation']],
        scope: 'user_default',
        tokenParams: {
          kind: 'json',
          object: { user_lookup: { field: 'subject', value: 'auth0|{user}' }, grant_type: 'nope' },
        },
        clientAuth: clientSecretPost('cid', 'sec'),
        user: 'alice',
      });
      t.equal(req.headers['content-type'], 'application/json');
      t.same(JSON.parse(req.body!), {
        grant_type: 'urn:qlik:oauth:user-impersonation',
        scope: 'user_default',
        user_lookup: { field: 'subject', value: 'auth0|alice' },
        client_id: 'cid',
        client_secret: 'sec',
      });
    },
  );

  t.test('{user} in form TokenParams', async (t) => {
    const req = buildTokenRequest({
      endpoint: post,
      format: 'form',
      grant: [['grant_type', 'client_credentials']],
      tokenParams: { kind: 'form', pairs: [['subject', 'user:{user}']] },
      clientAuth: clientSecretBasic('cid', 'sec'),
      user: 'bob smith',
    });
    t.equal(new URLSearchParams(req.body).get('subject'), 'user:bob smith');
    t.match(req.headers['authorization'], /^Basic /);
  });

  t.test('repeated TokenParams pairs stay repeated (RFC 8707 resource)', async (t) => {
    const tokenParams = {
      kind: 'form' as const,
      pairs: [
        ['resource', 'https://a.example'],
        ['audience', 'x'],
        ['resource', 'https://b.example'],
      ] as [string, string][],
    };
    const form = buildTokenRequest({
      endpoint: post,
      format: 'form',
      grant: refresh,
      tokenParams,
      clientAuth: noClientAuth,
    });
    t.same(new URLSearchParams(form.body).getAll('resource'), [
      'https://a.example',
      'https://b.example',
    ]);
    const viaGet = buildTokenRequest({
      endpoint: get,
      format: 'form',
      grant: refresh,
      tokenParams,
      clientAuth: noClientAuth,
    });
    t.same(viaGet.url.searchParams.getAll('resource'), ['https://a.example', 'https://b.example']);
    const json = buildTokenRequest({
      endpoint: post,
      format: 'json',
      grant: refresh,
      tokenParams,
      clientAuth: noClientAuth,
    });
    t.same(JSON.parse(json.body!).resource, ['https://a.example', 'https://b.example']);
  });

  t.test('tokenParamsNeedUser', async (t) => {
    t.equal(tokenParamsNeedUser(undefined), false);
    t.equal(tokenParamsNeedUser({ kind: 'form', pairs: [['a', 'b']] }), false);
    t.equal(tokenParamsNeedUser({ kind: 'form', pairs: [['sub', '{user}']] }), true);
    t.equal(tokenParamsNeedUser({ kind: 'json', object: { x: { y: '{user}' } } }), true);
  });

  t.test('no client auth: nothing added', async (t) => {
    const req = buildTokenRequest({
      endpoint: post,
      format: 'form',
      grant: refresh,
      clientAuth: noClientAuth,
    });
    t.equal(req.headers['authorization'], undefined);
    t.same([...new URLSearchParams(req.body).keys()], ['grant_type', 'refresh_token']);
  });
});

const SENT_AT = Date.UTC(2026, 0, 1, 12, 0, 0);
const ctx = { dsn: 'crm', endpoint: post, sentAt: SENT_AT, defaultLifetimeSeconds: 1800 };
const json = (
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): RawTokenResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

t.test('parseTokenResponse: successful responses', async (t) => {
  t.test('RFC 6749 5.1 response; token_type bearer any case becomes Bearer', async (t) => {
    const set = parseTokenResponse(
      json(200, {
        access_token: 'at',
        token_type: 'bEaReR',
        expires_in: 3600,
        refresh_token: 'rt2',
        scope: 'a b',
      }),
      ctx,
    );
    t.same(set, {
      accessToken: 'at',
      tokenType: 'Bearer',
      expiresAt: SENT_AT + 3_600_000,
      obtainedAt: SENT_AT,
      lifetimeSource: 'expires_in',
      refreshToken: 'rt2',
      scope: 'a b',
    });
  });

  t.test('expires_in as a numeric string', async (t) => {
    const set = parseTokenResponse(json(200, { access_token: 'at', expires_in: '599' }), ctx);
    t.equal(set.expiresAt, SENT_AT + 599_000);
    t.equal(set.tokenType, 'Bearer', 'missing token_type means Bearer');
  });

  t.test("Qlik's expires_at (ISO date)", async (t) => {
    const set = parseTokenResponse(
      json(200, { access_token: 'at', expires_at: '2026-01-01T12:06:00.000Z' }),
      ctx,
    );
    t.equal(set.expiresAt, SENT_AT + 360_000);
    t.equal(set.lifetimeSource, 'expires_at');
  });

  t.test("a JWT access token's exp when nothing else is said", async (t) => {
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(SENT_AT / 1000 + 900)
      .sign(new Uint8Array(32));
    const set = parseTokenResponse(json(200, { access_token: jwt, token_type: 'Bearer' }), ctx);
    t.equal(set.expiresAt, SENT_AT + 900_000);
    t.equal(set.lifetimeSource, 'jwt_exp');
  });

  t.test('DefaultTokenLifetime when the server says nothing (opaque token)', async (t) => {
    const set = parseTokenResponse(json(200, { access_token: 'a.b.c' }), ctx);
    t.equal(set.expiresAt, SENT_AT + 1_800_000);
    t.equal(set.lifetimeSource, 'default');
  });

  t.test('expires_in 0 or garbage is treated as unsaid', async (t) => {
    t.equal(
      parseTokenResponse(json(200, { access_token: 'x', expires_in: 0 }), ctx).lifetimeSource,
      'default',
    );
    t.equal(
      parseTokenResponse(json(200, { access_token: 'x', expires_in: 'soon' }), ctx).lifetimeSource,
      'default',
    );
  });

  t.test('other token types are kept', async (t) => {
    t.equal(
      parseTokenResponse(json(200, { access_token: 'x', token_type: 'DPoP' }), ctx).tokenType,
      'DPoP',
    );
  });
});

t.test('parseTokenResponse: errors', async (t) => {
  t.test(
    'RFC 6749 5.2 invalid_grant is terminal and carries error, description, status',
    async (t) => {
      const err = catchError(() =>
        parseTokenResponse(
          json(400, { error: 'invalid_grant', error_description: 'refresh token expired' }),
          ctx,
        ),
      );
      t.type(err, TokenEndpointError);
      t.equal(err.error, 'invalid_grant');
      t.equal(err.errorDescription, 'refresh token expired');
      t.equal(err.httpStatus, 400);
      t.equal(err.terminal, true);
      t.equal(err.code, 'TOKENSHIM_TOKEN_ENDPOINT');
      t.match(err.message, /DSN "crm"/);
      t.match(err.message, /POST https:\/\/idp\.example\/oauth\/token/);
      t.match(err.message, /log in again/);
      t.same(err.toProblem().error, 'invalid_grant');
    },
  );

  t.test(
    'invalid_client and unauthorized_client are terminal too; invalid_scope is not',
    async (t) => {
      t.equal(
        catchError(() => parseTokenResponse(json(401, { error: 'invalid_client' }), ctx)).terminal,
        true,
      );
      t.equal(
        catchError(() => parseTokenResponse(json(400, { error: 'unauthorized_client' }), ctx))
          .terminal,
        true,
      );
      const scope = catchError(() =>
        parseTokenResponse(json(400, { error: 'invalid_scope' }), ctx),
      );
      t.equal(scope.terminal, false);
      t.match(scope.message, /Check Scope/);
    },
  );

  t.test('an OAuth error on a 503 is not terminal', async (t) => {
    const err = catchError(() =>
      parseTokenResponse(json(503, { error: 'invalid_grant' }, { 'retry-after': '7' }), ctx),
    );
    t.equal(err.terminal, false);
    t.equal(err.retryAfterMs, 7000);
  });

  t.test('an HTML error page: a clear error quoting its first line', async (t) => {
    const res: RawTokenResponse = {
      status: 404,
      headers: { 'content-type': 'text/html' },
      body: '\n  <html><head><title>404 Not Found</title></head>\n<body>nothing here</body></html>',
    };
    const err = catchError(() => parseTokenResponse(res, ctx));
    t.equal(err.httpStatus, 404);
    t.equal(err.terminal, false);
    t.match(
      err.message,
      /answered 404 with text\/html, not a token: "<html><head><title>404 Not Found<\/title><\/head>"/,
    );
    t.match(err.message, /Check TokenURI/);
  });

  t.test('a 200 that is not JSON', async (t) => {
    const err = catchError(() => parseTokenResponse({ status: 200, headers: {}, body: 'OK' }, ctx));
    t.match(err.message, /answered 200 with no content type, not a token: "OK"/);
  });

  t.test('JSON without access_token names the keys it has', async (t) => {
    const err = catchError(() => parseTokenResponse(json(200, { token: 'x', ttl: 5 }), ctx));
    t.match(err.message, /no access_token \(keys: token, ttl\)/);
  });

  t.test('502 with an empty body, Retry-After as an HTTP date', async (t) => {
    const when = new Date(SENT_AT + 30_000).toUTCString();
    const err = catchError(() =>
      parseTokenResponse({ status: 502, headers: { 'retry-after': when }, body: '' }, ctx),
    );
    t.match(err.message, /unavailable \(HTTP 502, empty body\)/);
    t.equal(err.retryAfterMs, 30_000);
  });

  t.test('text echoed by the server never shows a secret', async (t) => {
    const secret = 'sup3r-s3cret+value';
    const echo: RawTokenResponse = {
      status: 400,
      headers: {},
      body: `bad request: client_secret=${encodeURIComponent(secret)}&refresh_token=rt-123456`,
    };
    const err = catchError(() =>
      parseTokenResponse(echo, { ...ctx, secrets: [secret, 'rt-123456'] }),
    );
    t.notMatch(err.message, secret);
    t.notMatch(err.message, encodeURIComponent(secret));
    t.notMatch(err.message, 'rt-123456');
    t.match(err.message, /\[redacted\]/);
    const described = catchError(() =>
      parseTokenResponse(
        json(400, { error: 'invalid_request', error_description: `unknown token rt-123456` }),
        {
          ...ctx,
          secrets: ['rt-123456'],
        },
      ),
    );
    t.equal(described.errorDescription, 'unknown token [redacted]');
  });
});

t.test('parseTokenResponse: what a failure quotes never holds a credential', async (t) => {
  const secret = 'client/secret+0123456789';
  t.test('JSON-escaped secrets (PHP and others write / as \\/) in a quoted body', async (t) => {
    const body = `{"message":"bad client_id or secret ${secret.replaceAll('/', '\\/')}"}`;
    for (const status of [500, 404]) {
      const err = catchError(() =>
        parseTokenResponse(
          { status, headers: { 'content-type': 'application/json' }, body },
          {
            ...ctx,
            secrets: [secret],
          },
        ),
      );
      t.notMatch(err.message, 'client\\/secret', `${status}: escaped`);
      t.notMatch(err.message, 'client/secret', `${status}: unescaped`);
      t.match(err.message, /\[redacted\]/);
    }
  });

  t.test('unicode escapes too: a JSON body is quoted as parsed, then redacted', async (t) => {
    const body = `{"message":"secret ${secret.replaceAll('/', '\\u002f')}"}`;
    const err = catchError(() =>
      parseTokenResponse({ status: 500, headers: {}, body }, { ...ctx, secrets: [secret] }),
    );
    t.notMatch(err.message, 'client\\u002fsecret');
    t.notMatch(err.message, secret);
  });

  t.test('a 200 form-encoded token answer is never quoted: it holds live tokens', async (t) => {
    const live =
      'access_token=gho_LIVEaccess0123456789&scope=repo&token_type=bearer&refresh_token=ghr_LIVErefresh0123456789';
    const err = catchError(() =>
      parseTokenResponse(
        {
          status: 200,
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
          body: live,
        },
        ctx,
      ),
    );
    t.notMatch(err.message, 'LIVE');
    t.equal(
      err.message,
      'DSN "crm": the token endpoint (POST https://idp.example/oauth/token) answered 200 with ' +
        'application/x-www-form-urlencoded; charset=utf-8, not a JSON token (keys: access_token, ' +
        'scope, token_type, refresh_token). Check TokenURI (and the POST prefix, DataDirect sends ' +
        'GET without it).',
    );
    t.notMatch(JSON.stringify(err.toProblem()), 'LIVE');
  });

  t.test('a token-looking parameter in any other quoted body is blanked', async (t) => {
    const err = catchError(() =>
      parseTokenResponse(
        { status: 503, headers: {}, body: 'upstream said access_token=tok-LIVE-0123456789 is bad' },
        ctx,
      ),
    );
    t.notMatch(err.message, 'tok-LIVE');
    t.match(err.message, /access_token=\[redacted\]/);
  });
});

function catchError(fn: () => unknown): TokenEndpointError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TokenEndpointError) return e;
    throw e;
  }
  throw new Error('expected a TokenEndpointError');
}
