import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { refreshTokenGrant } from '../../../lib/auth/grants/refresh-token.js';
import { createCredentialProvider } from '../../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import { FakeClock } from '../../../lib/clock.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { CLIENTS, DEFAULT_REDIRECT_URI, startOAuthServer } from '../../fixtures/oauth-server.js';

interface Relayed {
  readonly method: string;
  readonly grantType: string | null;
}

/**
 * A provider whose refresh endpoint is not its token endpoint (as Qlik Application Automation
 * and CData let one configure): `/oauth/refresh` records each request and hands it to the real
 * token endpoint, so the refresh tokens really rotate.
 */
async function refreshEndpoint(
  t: Test,
  tokenEndpoint: string,
): Promise<{
  url: string;
  relayed: Relayed[];
}> {
  const relayed: Relayed[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      relayed.push({
        method: req.method ?? '',
        grantType: new URLSearchParams(body).get('grant_type'),
      });
      void fetch(tokenEndpoint, {
        method: 'POST',
        headers: {
          'content-type': req.headers['content-type'] ?? '',
          authorization: req.headers.authorization ?? '',
        },
        body,
      }).then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(await answer.text());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/refresh`,
    relayed,
  };
}

t.test('the refresh_token grant goes to RefreshTokenURI when it is set', async (t) => {
  const dsn = (refresh?: string) =>
    makeDsn({
      tokenEndpoint: { method: 'POST', url: new URL('https://login.example.com/token') },
      ...(refresh ? { refreshTokenEndpoint: { method: 'POST', url: new URL(refresh) } } : {}),
    });
  t.equal(refreshTokenGrant('rt').endpoint?.(dsn()), undefined, 'TokenURI, as for every grant');
  t.equal(
    refreshTokenGrant('rt').endpoint?.(dsn('https://login.example.com/refresh'))?.url.href,
    'https://login.example.com/refresh',
  );
});

t.test(
  'authorization code (51) with RefreshTokenURI: the code goes to TokenURI, every refresh to RefreshTokenURI',
  async (t) => {
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    t.teardown(() => server.close());
    const refresh = await refreshEndpoint(t, server.tokenEndpoint);
    const code = await server.issueAuthorizationCode(CLIENTS.basic.clientId);
    const dsn = makeDsn({
      name: 'ac',
      method: 51,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      oauthCode: code,
      redirectUri: new URL(DEFAULT_REDIRECT_URI),
      tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
      refreshTokenEndpoint: { method: 'POST', url: new URL(refresh.url) },
    });
    const clock = new FakeClock(Date.now());
    const provider = createCredentialProvider(dsn, { store: new MemoryTokenStore(), clock });
    t.teardown(() => provider.close());
    const first = await provider.credential();
    t.same(refresh.relayed, [], 'the code exchange went to TokenURI');
    t.match(server.grants.at(-1), { grantType: 'authorization_code', error: undefined });

    for (let i = 0; i < 2; i++) {
      clock.advance(600_000);
      const next = await provider.credential();
      t.not(next.accessToken, first.accessToken);
    }
    t.same(refresh.relayed, [
      { method: 'POST', grantType: 'refresh_token' },
      { method: 'POST', grantType: 'refresh_token' },
    ]);
    t.same(
      server.grants.map((g) => [g.grantType, g.error]),
      [
        ['authorization_code', undefined],
        ['refresh_token', undefined],
        ['refresh_token', undefined],
      ],
      'the rotated refresh tokens were redeemed in turn',
    );
  },
);
