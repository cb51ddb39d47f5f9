import t from 'tap';
import { buildAuthorizationUrl } from '../../../lib/auth/login/authorization-url.js';
import { redirectTarget } from '../../../lib/auth/login/loopback-redirect.js';
import { createPkcePair, createState, s256Challenge } from '../../../lib/auth/login/pkce.js';
import { makeDsn } from '../../fixtures/make-dsn.js';

t.test('S256 code challenge (RFC 7636 appendix B)', async (t) => {
  t.equal(
    s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  );
  const octets = Buffer.from([
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77,
    105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
  ]);
  const pair = createPkcePair(() => octets);
  t.same(pair, {
    verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    method: 'S256',
  });
});

t.test('verifiers are 43 unreserved characters (RFC 7636 4.1) and never repeat', async (t) => {
  const a = createPkcePair();
  const b = createPkcePair();
  t.match(a.verifier, /^[A-Za-z0-9\-._~]{43}$/);
  t.not(a.verifier, b.verifier);
  t.not(createState(), createState());
});

t.test(
  'the authorization request keeps AuthURI parameters and asks for consent with offline_access',
  async (t) => {
    const dsn = makeDsn({ method: 56, clientId: 'app', scope: 'openid offline_access' });
    const pkce = createPkcePair();
    const url = buildAuthorizationUrl(
      dsn,
      new URL('https://login.example.com/authorize?audience=api&response_type=token'),
      {
        redirectUri: 'http://127.0.0.1:5000/callback',
        state: 'st',
        pkce,
      },
    );
    const p = url.searchParams;
    t.equal(p.get('audience'), 'api', 'provider-specific parameters in AuthURI survive');
    t.equal(p.getAll('response_type').join(), 'code', 'the flow owns response_type');
    t.equal(p.get('client_id'), 'app');
    t.equal(p.get('redirect_uri'), 'http://127.0.0.1:5000/callback');
    t.equal(p.get('scope'), 'openid offline_access');
    t.equal(p.get('code_challenge'), pkce.challenge);
    t.equal(p.get('code_challenge_method'), 'S256');
    t.equal(p.get('prompt'), 'consent', 'OpenID Connect Core 11');
    t.equal(p.get('state'), 'st');

    const own = buildAuthorizationUrl(
      makeDsn({ method: 56, clientId: 'app', scope: 'offline_access' }),
      new URL('https://login.example.com/authorize?prompt=select_account'),
      { redirectUri: 'http://127.0.0.1:5000/cb', state: 's', pkce },
    );
    t.equal(own.searchParams.get('prompt'), 'select_account', "AuthURI's own prompt wins");
    const noOffline = buildAuthorizationUrl(
      makeDsn({ method: 56, clientId: 'app', scope: 'api' }),
      new URL('https://x.example/a'),
      {
        redirectUri: 'http://127.0.0.1:5000/cb',
        state: 's',
        pkce,
      },
    );
    t.equal(noOffline.searchParams.get('prompt'), null);
  },
);

t.test(
  'redirect targets: loopback http only; no port means any free port (RFC 8252 7.3)',
  async (t) => {
    t.same(redirectTarget(makeDsn({ method: 56 })), {
      host: '127.0.0.1',
      port: 0,
      path: '/callback',
      uriHost: '127.0.0.1',
    });
    t.same(
      redirectTarget(makeDsn({ method: 56, redirectUri: new URL('http://localhost:7777/cb') })),
      {
        host: '127.0.0.1',
        port: 7777,
        path: '/cb',
        uriHost: 'localhost',
      },
    );
    t.same(redirectTarget(makeDsn({ method: 56, redirectUri: new URL('http://[::1]/oauth') })), {
      host: '::1',
      port: 0,
      path: '/oauth',
      uriHost: '[::1]',
    });
    for (const bad of [
      'https://127.0.0.1:5000/cb',
      'http://app.example.com/cb',
      'http://10.0.0.5:80/cb',
    ]) {
      t.throws(
        () => redirectTarget(makeDsn({ name: 'crm', method: 56, redirectUri: new URL(bad) })),
        {
          code: 'TOKENSHIM_CONFIG',
          message: /DSN "crm": .*RedirectURI must be http:\/\/127\.0\.0\.1/,
        },
        bad,
      );
    }
  },
);
