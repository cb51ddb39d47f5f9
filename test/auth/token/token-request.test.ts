/**
 * Assembling and sending one token request, against undici's MockAgent (no sockets): what leaves,
 * when it counts as sent, and that an answer quoting a secret back has it blanked out.
 */
import t, { type Test } from 'tap';
import { MockAgent } from 'undici';
import { clientAuthFor } from '../../../lib/auth/client-auth.js';
import { clientCredentialsGrant } from '../../../lib/auth/grants/client-credentials.js';
import type { Grant } from '../../../lib/auth/grants/grant.js';
import { refreshTokenGrant } from '../../../lib/auth/grants/refresh-token.js';
import {
  requestToken,
  tokenRequestSecrets,
  type TokenRequestContext,
} from '../../../lib/auth/token/token-request.js';
import { TokenEndpointMethod } from '../../../lib/auth/token-endpoint-method.js';
import { FakeClock } from '../../../lib/clock.js';
import type { DsnConfig } from '../../../lib/config/dsn.js';
import { makeDsn } from '../../fixtures/make-dsn.js';

const ORIGIN = 'https://idp.example';

function mockEndpoint(t: Test): MockAgent {
  const agent = new MockAgent();
  agent.disableNetConnect();
  t.teardown(() => agent.close());
  return agent;
}

function contextFor(
  dsn: DsnConfig,
  agent: MockAgent,
  clock = new FakeClock(),
  endpointMethod = new TokenEndpointMethod(),
  switched: string[] = [],
): TokenRequestContext {
  return {
    dsn,
    user: undefined,
    clientAuth: clientAuthFor(dsn),
    clock,
    dispatcher: agent,
    endpointMethod,
    onSwitchedToPost: (configured, status) =>
      switched.push(`${configured.method} ${configured.url.href} ${status}`),
  };
}

const clientCredentialsDsn = makeDsn({
  name: 'erp',
  method: 53,
  clientId: 'cid',
  clientSecret: 'the-client-Secret-1',
  scope: 'api',
  tokenParams: { kind: 'form', pairs: [['audience', 'https://api.example']] },
  clientCredentialsMode: 3,
  tokenEndpoint: { method: 'POST', url: new URL(`${ORIGIN}/token`) },
});

const noHeld = { refreshToken: undefined, accessToken: undefined };

t.test('the grant, scope, TokenParams and client authentication go out in one form', async (t) => {
  const agent = mockEndpoint(t);
  let body = '';
  agent
    .get(ORIGIN)
    .intercept({
      path: '/token',
      method: 'POST',
      body: (b: string) => {
        body = b;
        return true;
      },
    })
    .reply(
      200,
      { access_token: 'at-1', expires_in: 60 },
      { headers: { 'content-type': 'application/json' } },
    );
  const clock = new FakeClock();
  const sent: string[] = [];
  const set = await requestToken(
    clientCredentialsGrant,
    contextFor(clientCredentialsDsn, agent, clock),
    noHeld,
    (endpoint) => sent.push(`${endpoint.method} ${endpoint.url.href}`),
  );
  t.same(sent, [`POST ${ORIGIN}/token`], 'counted as sent once');
  t.same(Object.fromEntries(new URLSearchParams(body)), {
    grant_type: 'client_credentials',
    scope: 'api',
    audience: 'https://api.example',
    client_id: 'cid',
    client_secret: 'the-client-Secret-1',
  });
  t.match(set, { accessToken: 'at-1', obtainedAt: clock.now(), expiresAt: clock.now() + 60_000 });
});

t.test('a DSN without TokenURI: a config error naming the option, nothing sent', async (t) => {
  const agent = mockEndpoint(t);
  const dsn = { ...clientCredentialsDsn, tokenEndpoint: undefined };
  let sent = 0;
  const err = await requestToken(
    clientCredentialsGrant,
    contextFor(dsn, agent),
    noHeld,
    () => sent++,
  ).catch((e: unknown) => e);
  t.match(err, {
    code: 'TOKENSHIM_CONFIG',
    message: /DSN "erp": AuthenticationMethod=53 needs TokenURI/,
  });
  t.equal(sent, 0);
});

t.test('a grant that cannot build its parameters is not counted as a request', async (t) => {
  const agent = mockEndpoint(t);
  const unsignable: Grant = {
    grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    params: () => Promise.reject(new Error('JWTPrivateKeyFile cannot be read')),
  };
  let sent = 0;
  await t.rejects(
    requestToken(unsignable, contextFor(clientCredentialsDsn, agent), noHeld, () => sent++),
    { message: 'JWTPrivateKeyFile cannot be read' },
  );
  t.equal(sent, 0);
});

t.test('an error page that echoes the request has every secret blanked out', async (t) => {
  const agent = mockEndpoint(t);
  const dsn = makeDsn({
    name: 'crm',
    method: 54,
    clientId: 'cid',
    clientSecret: 'the-client-Secret-2',
    refreshToken: 'rt-from-the-config-1',
    tokenEndpoint: { method: 'POST', url: new URL(`${ORIGIN}/token`) },
  });
  agent
    .get(ORIGIN)
    .intercept({ path: '/token', method: 'POST' })
    .reply(
      400,
      (opts) => `<p>bad request ${String(opts.body)} ${JSON.stringify(opts.headers)}</p>`,
      {
        headers: { 'content-type': 'text/html' },
      },
    );
  const held = { refreshToken: 'rt-rotated-2', accessToken: 'at-current-3' };
  const err = (await requestToken(
    refreshTokenGrant('rt-rotated-2'),
    contextFor(dsn, agent),
    held,
    () => {},
  ).catch((e: unknown) => e)) as Error;
  t.match(err, { code: 'TOKENSHIM_TOKEN_ENDPOINT', message: /bad request/ });
  const basic = Buffer.from('cid:the-client-Secret-2').toString('base64');
  for (const secret of ['the-client-Secret-2', 'rt-rotated-2', basic]) {
    t.notMatch(err.message, secret, `${secret} is not quoted`);
  }
  t.match(err.message, '[redacted]');
});

t.test(
  'the secrets list: DSN secrets, the Basic credentials as sent, the tokens held',
  async (t) => {
    const dsn = makeDsn({
      method: 52,
      clientId: 'cid',
      clientSecret: 'secret-4',
      user: 'alice',
      password: 'password-5',
      securityToken: 'tenant-secret-6',
    });
    const secrets = tokenRequestSecrets(dsn, clientAuthFor(dsn), {
      refreshToken: 'rt-7',
      accessToken: 'at-8',
    });
    t.same(
      [...secrets].sort(),
      [
        Buffer.from('cid:secret-4').toString('base64'),
        'secret-4',
        'rt-7',
        'password-5',
        'tenant-secret-6',
        'at-8',
      ].sort(),
    );
  },
);

/** DataDirect's default: TokenURI without "POST " is a GET, which many token endpoints refuse. */
const getDsn = makeDsn({
  name: 'ga',
  method: 54,
  clientId: 'cid',
  clientSecret: 'the-client-Secret-4',
  refreshToken: 'rt-by-get-5',
  tokenEndpoint: { method: 'GET', url: new URL(`${ORIGIN}/o/oauth2/token`) },
});

const TOKEN = { access_token: 'at-post', expires_in: 60 };
const JSON_TYPE = { headers: { 'content-type': 'application/json' } };

t.test(
  'a GET refused with 405 is asked again once by POST; POST stays for the DSN, said once',
  async (t) => {
    const agent = mockEndpoint(t);
    const pool = agent.get(ORIGIN);
    let getQuery = '';
    let postBody = '';
    pool
      .intercept({
        path: (p: string) => {
          getQuery = p;
          return p.startsWith('/o/oauth2/token?');
        },
        method: 'GET',
      })
      .reply(405, '<html><title>Error 405 (Method Not Allowed)!!1</title></html>', {
        headers: { 'content-type': 'text/html; charset=UTF-8' },
      });
    pool
      .intercept({
        path: '/o/oauth2/token',
        method: 'POST',
        body: (b: string) => {
          postBody = b;
          return true;
        },
      })
      .reply(200, TOKEN, JSON_TYPE)
      .times(2);
    const method = new TokenEndpointMethod();
    const switched: string[] = [];
    const sent: string[] = [];
    const onSend = (e: { method: string }) => sent.push(e.method);
    const ctx = contextFor(getDsn, agent, new FakeClock(), method, switched);
    const set = await requestToken(refreshTokenGrant('rt-by-get-5'), ctx, noHeld, onSend);
    t.equal(set.accessToken, 'at-post');
    t.same(sent, ['GET', 'POST'], 'two token requests sent');
    t.match(getQuery, /grant_type=refresh_token&refresh_token=rt-by-get-5/);
    t.same(Object.fromEntries(new URLSearchParams(postBody)), {
      grant_type: 'refresh_token',
      refresh_token: 'rt-by-get-5',
    });
    t.same(switched, [`GET ${ORIGIN}/o/oauth2/token 405`]);

    // the next request, from any of the DSN's managers, goes by POST straight away
    await requestToken(refreshTokenGrant('rt-by-get-5'), ctx, noHeld, onSend);
    t.same(sent, ['GET', 'POST', 'POST']);
    t.equal(switched.length, 1, 'the warning is given once');
  },
);

t.test('which refusals of a GET lead to a POST, and which are answers to keep', async (t) => {
  const cases: [string, number, string, string, boolean][] = [
    ['404 with an HTML page', 404, 'text/html', '<!DOCTYPE html><h1>Not Found</h1>', true],
    ['400 with an HTML page', 400, 'text/html', '<html>Bad Request</html>', true],
    [
      "Entra ID's AADSTS900561",
      400,
      'application/json',
      JSON.stringify({
        error: 'invalid_request',
        error_description:
          'AADSTS900561: The endpoint only accepts POST, OPTIONS requests. Received a GET request.',
      }),
      true,
    ],
    [
      'an OAuth error about the grant',
      400,
      'application/json',
      JSON.stringify({ error: 'invalid_grant' }),
      false,
    ],
    ['a JSON 404', 404, 'application/json', JSON.stringify({ message: 'no such tenant' }), false],
  ];
  for (const [what, status, type, body, retried] of cases) {
    const agent = mockEndpoint(t);
    const pool = agent.get(ORIGIN);
    pool
      .intercept({ path: (p: string) => p.startsWith('/o/oauth2/token?'), method: 'GET' })
      .reply(status, body, { headers: { 'content-type': type } });
    pool.intercept({ path: '/o/oauth2/token', method: 'POST' }).reply(200, TOKEN, JSON_TYPE);
    const sent: string[] = [];
    const result = await requestToken(
      refreshTokenGrant('rt-by-get-5'),
      contextFor(getDsn, agent),
      noHeld,
      (e) => sent.push(e.method),
    ).catch((e: unknown) => e as Error);
    t.same(sent, retried ? ['GET', 'POST'] : ['GET'], what);
    t.equal('accessToken' in result, retried, what);
  }
});

t.test(
  'a POST refused as well: the GET answer is the error, and GET stays (the URL is wrong)',
  async (t) => {
    const agent = mockEndpoint(t);
    const pool = agent.get(ORIGIN);
    pool
      .intercept({ path: (p: string) => p.startsWith('/o/oauth2/token?'), method: 'GET' })
      .reply(405, '', {})
      .times(2);
    pool.intercept({ path: '/o/oauth2/token', method: 'POST' }).reply(404, '<html>nope</html>', {
      headers: { 'content-type': 'text/html' },
    });
    const method = new TokenEndpointMethod();
    const switched: string[] = [];
    const ctx = contextFor(getDsn, agent, new FakeClock(), method, switched);
    const err = (await requestToken(refreshTokenGrant('rt-by-get-5'), ctx, noHeld, () => {}).catch(
      (e: unknown) => e,
    )) as Error;
    t.match(err, {
      code: 'TOKENSHIM_TOKEN_ENDPOINT',
      message: /\(GET https:\/\/idp\.example\/o\/oauth2\/token\) answered 405 .*POST prefix/,
    });
    t.notMatch(err.message, /rt-by-get-5|the-client-Secret-4/);
    t.same(switched, []);
    t.equal(method.endpoint(getDsn.tokenEndpoint!).method, 'GET');
  },
);

t.test('a POST endpoint is never asked by GET', async (t) => {
  const method = new TokenEndpointMethod();
  const post = { method: 'POST' as const, url: new URL(`${ORIGIN}/token`) };
  method.switchToPost();
  t.equal(method.endpoint(post), post);
  t.equal(method.endpoint(getDsn.tokenEndpoint!).method, 'POST');
  t.equal(method.switchToPost(), false, 'true only the first time');
});
