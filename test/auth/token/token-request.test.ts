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
): TokenRequestContext {
  return { dsn, user: undefined, clientAuth: clientAuthFor(dsn), clock, dispatcher: agent };
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
