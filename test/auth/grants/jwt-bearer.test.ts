import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import t from 'tap';
import { jwtBearerGrant } from '../../../lib/auth/grants/jwt-bearer.js';
import { createCredentialProvider } from '../../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import { FakeClock } from '../../../lib/clock.js';
import type { DsnConfig } from '../../../lib/config/dsn.js';
import type { TokenshimError } from '../../../lib/errors.js';
import { ConfigError } from '../../../lib/errors.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { CLIENTS, startOAuthServer } from '../../fixtures/oauth-server.js';

const dir = mkdtempSync(join(tmpdir(), 'tokenshim-jwt-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaPkcs8 = join(dir, 'rsa.pem');
const rsaPkcs1 = join(dir, 'rsa-pkcs1.pem');
const ecPem = join(dir, 'ec.pem');
const notAKey = join(dir, 'not-a-key.pem');
writeFileSync(rsaPkcs8, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(rsaPkcs1, rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }));
writeFileSync(ecPem, ec.privateKey.export({ type: 'sec1', format: 'pem' }));
writeFileSync(notAKey, 'hello\n');

/** The RSA key with a self-signed certificate, exported by openssl as DataDirect's JWTCertStore. */
const rsaP12 = join(dir, 'signer.p12');
const rsaCert = join(dir, 'signer.pem');
const P12_PASSWORD = 'p12-password-7f3a';
execFileSync(
  'openssl',
  ['req', '-x509', '-key', rsaPkcs8, '-out', rsaCert, '-subj', '/CN=svc', '-days', '1'],
  {
    stdio: 'pipe',
  },
);
execFileSync(
  'openssl',
  [
    'pkcs12',
    '-export',
    '-inkey',
    rsaPkcs8,
    '-in',
    rsaCert,
    '-name',
    'signer',
    '-out',
    rsaP12,
    '-passout',
    `pass:${P12_PASSWORD}`,
  ],
  { stdio: 'pipe' },
);

t.test('RFC 7523 jwt-bearer (55) against oidc-provider', async (t) => {
  const server = await startOAuthServer({
    jwtIssuers: { 'svc-issuer': rsa.publicKey, 'ec-issuer': ec.publicKey },
  });
  t.teardown(() => server.close());
  const dsn = (o: Partial<Omit<DsnConfig, 'method'>>): DsnConfig =>
    makeDsn({
      name: 'jwt',
      method: 55,
      clientId: CLIENTS.basic.clientId,
      clientSecret: CLIENTS.basic.clientSecret,
      claimsIssuer: 'svc-issuer',
      claimsSubject: 'svc@example.com',
      jwtPrivateKeyFile: rsaPkcs8,
      scope: 'api',
      tokenEndpoint: { method: 'POST', url: new URL(server.tokenEndpoint) },
      ...o,
    });

  for (const [label, o] of [
    ['RS256, PKCS#8 key', {}],
    ['RS256, PKCS#1 key', { jwtPrivateKeyFile: rsaPkcs1 }],
    [
      'ES256, SEC1 key',
      { jwtPrivateKeyFile: ecPem, jwtAlgorithm: 'ES256', claimsIssuer: 'ec-issuer' },
    ],
  ] as const) {
    t.test(`the server verifies the assertion (${label})`, async (t) => {
      const p = createCredentialProvider(dsn(o), {
        store: new MemoryTokenStore(),
        clock: new FakeClock(Date.now()),
      });
      t.teardown(() => p.close());
      const cred = await p.credential();
      t.ok(cred.accessToken);
      t.match(server.grants.at(-1), {
        grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        error: undefined,
      });
    });
  }

  t.test(
    "JWTCertStore, JWTCertPassword, JWTCertAlias: DataDirect's PKCS#12 key signs the assertion",
    async (t) => {
      const p = createCredentialProvider(
        dsn({
          jwtPrivateKeyFile: undefined,
          jwtCertStore: rsaP12,
          jwtCertPassword: P12_PASSWORD,
          jwtCertAlias: 'signer',
        }),
        { store: new MemoryTokenStore(), clock: new FakeClock(Date.now()) },
      );
      t.teardown(() => p.close());
      t.ok((await p.credential()).accessToken);
      t.match(server.grants.at(-1), {
        grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        error: undefined,
      });
    },
  );

  t.test(
    'JWTCertStore with a wrong password: a config error naming it, not the password',
    async (t) => {
      const p = createCredentialProvider(
        dsn({ jwtPrivateKeyFile: undefined, jwtCertStore: rsaP12, jwtCertPassword: 'wrong-pw-9d' }),
        { store: new MemoryTokenStore(), clock: new FakeClock(Date.now()) },
      );
      t.teardown(() => p.close());
      const err = (await p.credential().catch((e: unknown) => e)) as Error;
      t.type(err, ConfigError);
      t.match(
        err.message,
        /DSN "jwt": JWTCertStore .*signer\.p12 cannot be opened with JWTCertPassword/,
      );
      t.notMatch(err.message, /wrong-pw-9d|p12-password/);
    },
  );

  t.test('a key the server does not trust: refused, DSN needs attention', async (t) => {
    const p = createCredentialProvider(dsn({ claimsIssuer: 'ec-issuer' }), {
      store: new MemoryTokenStore(),
      clock: new FakeClock(Date.now()),
    });
    t.teardown(() => p.close());
    const err = (await p.credential().catch((e: unknown) => e)) as TokenshimError;
    t.equal(err.code, 'TOKENSHIM_NEEDS_LOGIN');
    t.match(err.message, /invalid_grant/);
  });

  t.test('bad key files: config errors naming JWTPrivateKeyFile', async (t) => {
    for (const [file, pattern] of [
      [join(dir, 'missing.pem'), /JWTPrivateKeyFile .*missing\.pem cannot be read \(ENOENT\)/],
      [notAKey, /holds no PEM private key/],
    ] as const) {
      const p = createCredentialProvider(dsn({ jwtPrivateKeyFile: file }), {
        store: new MemoryTokenStore(),
        clock: new FakeClock(Date.now()),
      });
      t.teardown(() => p.close());
      const err = await p.credential().catch((e: unknown) => e);
      t.type(err, ConfigError);
      t.match((err as Error).message, pattern);
    }
  });
});

t.test('the assertion: iss, sub, aud = token endpoint, short expiry, unique jti', async (t) => {
  const clock = new FakeClock(Date.UTC(2026, 2, 1));
  const d = makeDsn({
    method: 55,
    clientId: 'cid',
    claimsIssuer: 'iss-1',
    claimsSubject: 'sub-1',
    jwtPrivateKeyFile: rsaPkcs8,
    tokenEndpoint: { method: 'POST', url: new URL('https://login.example/oauth2/token?x=1') },
  });
  const grant = jwtBearerGrant();
  const [first, second] = [
    await grant.params({ dsn: d, clock }),
    await grant.params({ dsn: d, clock }),
  ];
  t.same(first[0], ['grant_type', 'urn:ietf:params:oauth:grant-type:jwt-bearer']);
  const assertion = first[1]![1];
  const claims = decodeJwt(assertion);
  t.match(claims, {
    iss: 'iss-1',
    sub: 'sub-1',
    aud: 'https://login.example/oauth2/token',
    iat: clock.now() / 1000,
  });
  t.equal(claims.exp, clock.now() / 1000 + 300);
  t.equal(decodeProtectedHeader(assertion).alg, 'RS256');
  t.not(decodeJwt(second[1]![1]).jti, claims.jti);

  const defaults = await jwtBearerGrant().params({
    dsn: { ...d, claimsIssuer: undefined, claimsSubject: undefined },
    clock,
  });
  t.match(
    decodeJwt(defaults[1]![1]),
    { iss: 'cid', sub: 'cid' },
    'ClaimsIssuer and ClaimsSubject default to ClientID',
  );
});
