import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { MemoryTokenStore } from '../../lib/auth/stores/memory-store.js';
import { TokenManager } from '../../lib/auth/token/token-manager.js';
import { NeedsLoginError } from '../../lib/errors.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { loopbackDispatcher } from '../fixtures/loopback-dispatcher.js';

/** A token endpoint that refuses every request with one OAuth error (RFC 6749 5.2). */
async function refusingEndpoint(t: Test, error: string) {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(error === 'invalid_client' ? 401 : 400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error, error_description: `${error} said the server` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/token`);
}

const cases: [string, Parameters<typeof makeDsn>[0], string, RegExp, boolean][] = [
  [
    'client credentials, invalid_client',
    { method: 53, grantType: 'client_credentials' },
    'invalid_client',
    /Check ClientID and ClientSecret in \[erp\]/,
    false,
  ],
  [
    'password grant, invalid_grant',
    { method: 52, grantType: 'password', user: 'u', password: 'p' },
    'invalid_grant',
    /Check User and Password in \[erp\]/,
    false,
  ],
  [
    'refresh token, invalid_grant',
    { method: 54, grantType: 'refresh_token', refreshToken: 'rt-spent-123' },
    'invalid_grant',
    /Run `tokenshim login erp`/,
    true,
  ],
  [
    'refresh token, unauthorized_client (Atlassian: a spent refresh token)',
    { method: 54, grantType: 'refresh_token', refreshToken: 'rt-spent-123' },
    'unauthorized_client',
    /Run `tokenshim login erp`/,
    true,
  ],
  [
    'refresh token, invalid_client',
    { method: 54, grantType: 'refresh_token', refreshToken: 'rt-spent-123' },
    'invalid_client',
    /Check ClientID and ClientSecret in \[erp\]/,
    false,
  ],
  [
    "refresh token, GitHub's incorrect_client_credentials (its invalid_client)",
    { method: 54, grantType: 'refresh_token', refreshToken: 'rt-spent-123' },
    'incorrect_client_credentials',
    /; check ClientID and ClientSecret\)\. Check ClientID and ClientSecret in \[erp\]/,
    false,
  ],
];

for (const [name, overrides, error, advice, mentionsLogin] of cases) {
  t.test(`a terminal refusal says what fixes it: ${name}`, async (t) => {
    const url = await refusingEndpoint(t, error);
    const manager = new TokenManager({
      dispatcher: loopbackDispatcher(t),
      dsn: makeDsn({
        name: 'erp',
        clientId: 'cid',
        clientSecret: 'client-secret-xyz',
        tokenEndpoint: { method: 'POST', url },
        ...overrides,
      }),
      store: new MemoryTokenStore(),
    });
    t.teardown(() => manager.close());
    const err = (await manager.getToken().catch((e: unknown) => e)) as Error;
    t.type(err, NeedsLoginError);
    t.match(err.message, advice);
    t.match(err.message, `${error} said the server`, "the server's own words");
    t.equal(
      /tokenshim login/.test(err.message),
      mentionsLogin,
      'login is only advised where it helps',
    );
    t.notMatch(err.message, /client-secret-xyz|rt-spent-123/);
  });
}
