/** The cross-field rules of lib/config/rules.ts, each with the DSNs that break it. */
import t from 'tap';
import { loadConfig } from '../../lib/config/load.js';
import { formatProblem } from '../../lib/config/problems.js';
import { CROSS_FIELD_RULES } from '../../lib/config/rules.js';
import {
  HOST,
  REFRESH,
  TOKEN_URI,
  expectProblems,
  type Expected,
  type Options,
} from '../fixtures/resolve-options.js';
import { tempDir } from '../fixtures/temp-config.js';

/** a method 55 DSN without its key */
const JWT = {
  AuthenticationMethod: '55',
  TokenURI: TOKEN_URI,
  ClaimsIssuer: 'iss',
  ClaimsSubject: 'sub',
  ...HOST,
};

/** [rule, options, every problem it produces, in order] */
const CASES: [string, Options, Expected[]][] = [
  [
    'requiredByMethod: every option the method needs',
    { AuthenticationMethod: '55', ...HOST },
    [
      ...['TokenURI', 'ClaimsIssuer', 'ClaimsSubject'].map((o): Expected => [
        'error',
        undefined,
        `${o} is missing; AuthenticationMethod=55 (OAuth2-JWTBearer) needs it`,
        `add ${o}=... to [d]`,
      ]),
      [
        'error',
        undefined,
        'neither JWTPrivateKeyFile nor JWTCertStore is set; AuthenticationMethod=55 (OAuth2-JWTBearer) needs the key that signs its assertions',
        'add JWTCertStore=key.p12 (with JWTCertPassword) or JWTPrivateKeyFile=key.pem to [d]',
      ],
    ],
  ],
  [
    'jwtSigningKey: a PKCS#12 file alone is enough',
    { ...JWT, JWTCertStore: 'key.p12', JWTCertPassword: 'pw' },
    [],
  ],
  [
    'jwtSigningKey: not both keys',
    { ...JWT, JWTPrivateKeyFile: 'key.pem', JWTCertStore: 'key.p12' },
    [
      [
        'error',
        'JWTCertStore',
        'JWTPrivateKeyFile and JWTCertStore are both set: tokenshim would not know which key signs',
        'keep one of them',
      ],
    ],
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
    'tokenUriByGet: a refresh token in the URL of a GET',
    { ...REFRESH, TokenURI: 'https://login.example.com/token' },
    [
      [
        'warning',
        'TokenURI',
        'TokenURI has no "POST " prefix, so tokenshim sends the token request as a GET with the refresh token in its URL, where server and proxy logs keep it',
        'write TokenURI=POST https://login.example.com/token if the token endpoint accepts POST (RFC 6749 3.2 requires it); keep GET only for one that refuses POST',
      ],
    ],
  ],
  [
    "tokenUriByGet: DataDirect's Google Analytics DSN as printed (a host known to refuse GET)",
    { ...REFRESH, TokenURI: 'https://accounts.google.com/o/oauth2/token' },
    [
      [
        'warning',
        'TokenURI',
        'TokenURI has no "POST " prefix, so tokenshim sends a GET with the refresh token in its URL, which Google answers with 405; tokenshim then retries as POST',
        'write TokenURI=POST https://accounts.google.com/o/oauth2/token',
      ],
    ],
  ],
  [
    'tokenUriByGet: a known host, nothing secret in the URL (client secret as HTTP Basic)',
    {
      AuthenticationMethod: '53',
      ClientID: 'c',
      ClientSecret: 's',
      TokenURI: 'https://login.microsoftonline.com/tenant/oauth2/v2.0/token',
      ...HOST,
    },
    [
      [
        'warning',
        'TokenURI',
        'TokenURI has no "POST " prefix, so tokenshim sends a GET, which Microsoft Entra ID answers with 405; tokenshim then retries as POST',
        'write TokenURI=POST https://login.microsoftonline.com/tenant/oauth2/v2.0/token',
      ],
    ],
  ],
  [
    'tokenUriByGet: the client secret in the query (mode 2, or mode 3 by GET), masked in the fix',
    {
      AuthenticationMethod: '53',
      ClientID: 'c',
      ClientSecret: 's',
      ClientCredentialsMode: '3',
      TokenURI: 'https://mkto.example.com/identity/oauth/token?client_secret=abcdef99',
      ...HOST,
    },
    [
      [
        'warning',
        'TokenURI',
        'TokenURI has no "POST " prefix, so tokenshim sends the token request as a GET with the client secret in its URL, where server and proxy logs keep it',
        'write TokenURI=POST https://mkto.example.com/identity/oauth/token?client_secret=****99 if the token endpoint accepts POST (RFC 6749 3.2 requires it); keep GET only for one that refuses POST',
      ],
    ],
  ],
  [
    'tokenUriByGet: nothing to say for a GET without a credential in its URL',
    {
      AuthenticationMethod: '53',
      ClientID: 'c',
      ClientSecret: 's',
      TokenURI: 'https://login.example.com/token',
      ...HOST,
    },
    [],
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
    'requiredByMethod: client credentials (53) with a certificate need no ClientSecret',
    {
      AuthenticationMethod: '53',
      ClientID: 'c',
      TokenURI: TOKEN_URI,
      ClientCredentialsMode: 'tls_client_auth',
      ClientCertificate: 'client.pem',
      ...HOST,
    },
    [],
  ],
  [
    'requiredByMethod: ... but without one they do',
    { AuthenticationMethod: '53', ClientID: 'c', TokenURI: TOKEN_URI, ...HOST },
    [
      [
        'error',
        undefined,
        'ClientSecret is missing; AuthenticationMethod=53 (OAuth2-ClientCredentials) needs it',
        'add ClientSecret=... to [d]',
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
  [
    'certificateClientAuth: no certificate, no client id, a secret that is not sent',
    {
      AuthenticationMethod: '52',
      User: 'u',
      Password: 'p',
      ClientSecret: 's',
      TokenURI: TOKEN_URI,
      ClientCredentialsMode: 'self_signed_tls_client_auth',
      ...HOST,
    },
    [
      [
        'error',
        'ClientCredentialsMode',
        'ClientCredentialsMode=self_signed_tls_client_auth authenticates the client with its TLS certificate, but ClientCertificate is not set',
        'set ClientCertificate to the certificate registered for the client (a PEM or .p12 file), or choose another ClientCredentialsMode',
      ],
      [
        'error',
        'ClientCredentialsMode',
        'ClientCredentialsMode=self_signed_tls_client_auth needs ClientID: the token endpoint looks the client up by it (RFC 8705 2)',
        'add ClientID=... to [d]',
      ],
      [
        'warning',
        'ClientSecret',
        'ClientSecret is not sent: with ClientCredentialsMode=self_signed_tls_client_auth the client certificate authenticates the client',
        'remove ClientSecret, or choose a ClientCredentialsMode from 0 to 3 to send it',
      ],
    ],
  ],
  [
    'clientCertificatePartsNeedCertificate',
    { ...REFRESH, ClientCertificateKey: 'key.pem', ClientCertificatePassword: 'pw' },
    ['ClientCertificateKey', 'ClientCertificatePassword'].map((o): Expected => [
      'error',
      o,
      `${o} is set but ClientCertificate is not, so no client certificate would be presented`,
      'set ClientCertificate to the certificate file (PEM or .p12/.pfx)',
    ]),
  ],
  [
    'keysLongEnough: a one-character AdminKey and a short ClientKey are refused',
    { ...HOST, AdminKey: 'k', ClientKey: 'short-key' },
    [
      [
        'error',
        'AdminKey',
        'AdminKey has 1 characters; it needs at least 16, since whoever guesses it gets live tokens',
        'set AdminKey to a long random string (openssl rand -hex 24 prints one)',
      ],
      [
        'error',
        'ClientKey',
        "ClientKey has 9 characters; it needs at least 16, since whoever guesses it gets the DSN's credential",
        'set ClientKey to a long random string (openssl rand -hex 24 prints one)',
      ],
    ],
  ],
  [
    'keysLongEnough: 16 characters will do',
    { ...HOST, AdminKey: '0123456789abcdef', ClientKey: 'fedcba9876543210' },
    [],
  ],
  [
    'cleartextToRemoteHosts: http:// token endpoint, upstream and AllowedHosts on other machines',
    {
      ...REFRESH,
      TokenURI: 'POST http://login.example.com/token',
      HostName: 'http://api.example.com:8080/v1',
      AllowedHosts: 'http://files.example.com https://cdn.example.com',
    },
    [
      [
        'warning',
        'TokenURI',
        'TokenURI sends the client secret and the tokens to login.example.com over http://, unencrypted: anyone on the network path can read it',
        'use https://login.example.com if the server offers it',
      ],
      [
        'warning',
        'HostName',
        "HostName sends the DSN's credential, on every request, to api.example.com:8080 over http://, unencrypted: anyone on the network path can read it",
        'use https://api.example.com:8080 if the server offers it',
      ],
      [
        'warning',
        'AllowedHosts',
        "AllowedHosts sends the DSN's credential to files.example.com over http://, unencrypted: anyone on the network path can read it",
        'use https://files.example.com if the server offers it',
      ],
    ],
  ],
  [
    'cleartextToRemoteHosts: http:// on this machine is fine, as is an upstream that gets no credential',
    { ...REFRESH, TokenURI: 'POST http://127.0.0.1:9000/token', HostName: 'http://localhost:8080' },
    [],
  ],
  [
    'cleartextToRemoteHosts: method 15 sends nothing secret',
    { HostName: 'http://api.example.com' },
    [],
  ],
  [
    'certificatesNotValidated',
    { ...HOST, ValidateServerCertificate: '0' },
    [
      [
        'warning',
        'ValidateServerCertificate',
        'ValidateServerCertificate=0: any certificate is accepted, so anyone on the network path can pose as the token endpoint or the upstream and read the credentials',
        'remove it, and put the private CA in TrustStore (or set HostNameInCertificate) instead',
      ],
    ],
  ],
];

t.test('each rule: the exact problems; errors refuse the DSN, warnings do not', async (t) => {
  expectProblems(t, CASES);
});

t.test('the cross-field rules, by name', async (t) => {
  t.same(
    CROSS_FIELD_RULES.map((r) => r.name),
    [
      'requiredByMethod',
      'jwtSigningKey',
      'refreshTokenMissing',
      'oauthCodeMissing',
      'authHeaderNeedsSecurityToken',
      'tokenUriByGet',
      'tokenSchemeNeedsHeader',
      'exposeTokensNeedsAdminKey',
      'prefetchNeedsOneToken',
      'certificateClientAuth',
      'clientCertificatePartsNeedCertificate',
      'refreshOnBodyNeedsToken',
      'keysLongEnough',
      'cleartextToRemoteHosts',
      'certificatesNotValidated',
    ],
  );
});

t.test(
  'tokenUriByGet: a TokenURI from ${env:} is named by its reference, its value never printed',
  async (t) => {
    const { dir, write } = tempDir(t);
    const path = write(
      'odbc.ini',
      '[d]\nAuthenticationMethod=54\nClientID=c\nRefreshToken=r\nTokenURI=${env:TOKEN_URL}\nHostName=https://a.example\n',
    );
    const loaded = await loadConfig({
      configPath: path,
      env: { TOKEN_URL: 'https://idp.tenant-4711.example/token' },
      cwd: dir,
    });
    const text = loaded.problems.map(formatProblem).join('\n');
    t.match(text, 'Fix: write TokenURI=POST ${env:TOKEN_URL} if the token endpoint accepts POST');
    t.notMatch(text, /tenant-4711/);
  },
);
