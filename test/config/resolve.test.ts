/**
 * resolveDsn without files: the options of one DSN as a user writes them, and the values config
 * resolves them to, family by family (lib/config/options/). Bad input: resolve-problems.test.ts;
 * the cross-field rules: rules.test.ts.
 */
import t from 'tap';
import { OPTION } from '../../lib/config/catalogue.js';
import type { DsnConfig } from '../../lib/config/dsn.js';
import { hasErrors, type ConfigProblem } from '../../lib/config/problems.js';
import { collectDsn } from '../../lib/config/resolve.js';
import { HOST, REFRESH, TOKEN_URI, resolve, type Options } from '../fixtures/resolve-options.js';

/** URLs as their href, as a user reads them (and as t.match can compare them) */
function plain(dsn: DsnConfig | undefined): unknown {
  return JSON.parse(JSON.stringify(dsn ?? null)) as unknown;
}

t.test('an absent option takes the catalogue default', async (t) => {
  const { dsn, problems } = resolve(HOST);
  t.same(problems, []);
  const cases: [keyof DsnConfig, { readonly default: unknown }, unknown][] = [
    ['method', OPTION.AuthenticationMethod, OPTION.AuthenticationMethod.default],
    ['clientCredentialsMode', OPTION.ClientCredentialsMode, 0],
    ['validateServerCertificate', OPTION.ValidateServerCertificate, true],
    ['tokenRequestFormat', OPTION.TokenRequestFormat, 'form'],
    [
      'tokenPlacement',
      OPTION.TokenPlacement,
      { kind: 'header', name: 'Authorization', scheme: true },
    ],
    ['refreshMarginSeconds', OPTION.RefreshMargin, 300],
    ['prefetch', OPTION.Prefetch, false],
    ['defaultTokenLifetimeSeconds', OPTION.DefaultTokenLifetime, 3600],
    ['refreshOnStatus', OPTION.RefreshOnStatus, [401]],
    ['jwtAlgorithm', OPTION.JWTAlgorithm, 'RS256'],
    ['maxUserTokens', OPTION.MaxUserTokens, 1000],
    ['exposeTokens', OPTION.ExposeTokens, false],
    ['interceptTls', OPTION.InterceptTLS, false],
    ['tunnelOtherHosts', OPTION.TunnelOtherHosts, false],
    ['connectTimeoutSeconds', OPTION.ConnectTimeout, 10],
    ['headersTimeoutSeconds', OPTION.HeadersTimeout, 60],
    ['bodyTimeoutSeconds', OPTION.BodyTimeout, 300],
    ['replayBodyLimitBytes', OPTION.ReplayBodyLimit, 1024 * 1024],
  ];
  for (const [field, option, value] of cases) {
    t.same(dsn?.[field], value, field);
    t.same(dsn?.[field], option.default, `${field} is the catalogue's default`);
  }
  t.equal(dsn?.method.code, 15, 'AuthenticationMethod=15 (None)');
  t.equal(dsn?.tokenStoreKey, 'd', 'TokenStoreKey: the DSN name');
  t.equal(resolve({ ...HOST, ProxyHost: 'proxy' }).dsn?.outboundProxy?.port, 8080);
  t.equal(OPTION.ProxyPort.default, 8080);
  t.equal(resolve({ ...HOST, RefreshMargin: '' }).dsn?.refreshMarginSeconds, 300, 'empty = absent');
});

/** [what, options, fields the resolved DSN has (t.match)] */
const RESOLVES: [string, Options, Record<string, unknown>][] = [
  // method: AuthenticationMethod, the legacy-24 rule, GrantType
  ['method by number', REFRESH, { method: { code: 54 }, grantType: 'refresh_token' }],
  [
    'method by name, any case',
    { ...REFRESH, AuthenticationMethod: 'oauth2-refreshtoken' },
    { method: { code: 54, name: 'OAuth2-RefreshToken' } },
  ],
  [
    "method by DataDirect's older spelling",
    { AuthenticationMethod: 'Bearer', SecurityToken: 'st', ...HOST },
    { method: { code: 34 }, grantType: undefined },
  ],
  [
    'each OAuth method runs its grant',
    { AuthenticationMethod: '53', ClientID: 'c', ClientSecret: 's', TokenURI: TOKEN_URI, ...HOST },
    { effectiveMethod: { code: 53 }, grantType: 'client_credentials' },
  ],
  [
    'JWT bearer (RFC 7523)',
    {
      AuthenticationMethod: '55',
      TokenURI: TOKEN_URI,
      ClaimsIssuer: 'i',
      ClaimsSubject: 's',
      JWTPrivateKeyFile: 'key.pem',
      JWTAlgorithm: 'ES256',
      ...HOST,
    },
    { grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer', jwtAlgorithm: 'ES256' },
  ],
  [
    'GrantType overrides the method grant',
    { ...REFRESH, GrantType: 'urn:qlik:oauth:user-impersonation' },
    { grantType: 'urn:qlik:oauth:user-impersonation' },
  ],
  [
    'GrantType means nothing without an OAuth method',
    { GrantType: 'password', ...HOST },
    { grantType: undefined },
  ],
  [
    'legacy 24: RefreshToken first',
    {
      AuthenticationMethod: '24',
      RefreshToken: 'r',
      User: 'u',
      Password: 'p',
      ClientID: 'c',
      TokenURI: TOKEN_URI,
      ...HOST,
    },
    { method: { code: 24 }, effectiveMethod: { code: 54 }, grantType: 'refresh_token' },
  ],
  [
    'legacy 24: then User and Password',
    {
      AuthenticationMethod: '24',
      User: 'u',
      Password: 'p',
      ClientSecret: 's',
      TokenURI: TOKEN_URI,
      ...HOST,
    },
    { effectiveMethod: { code: 52 }, grantType: 'password' },
  ],
  [
    'legacy 24: then ClientID and ClientSecret (a User alone is not enough)',
    {
      AuthenticationMethod: '24',
      User: 'u',
      ClientID: 'c',
      ClientSecret: 's',
      TokenURI: TOKEN_URI,
      ...HOST,
    },
    { effectiveMethod: { code: 53 }, grantType: 'client_credentials' },
  ],
  [
    'legacy 24: an AccessToken alone is static',
    { AuthenticationMethod: '24', AccessToken: 'a', ...HOST },
    { effectiveMethod: { code: 50, kind: 'static' }, grantType: undefined },
  ],
  // token-endpoint: TokenURI, TokenRequestFormat, TokenParams, client credentials
  [
    'TokenURI is GET without a prefix (DataDirect)',
    { ...REFRESH, TokenURI: 'https://login.example.com/token' },
    { tokenEndpoint: { method: 'GET', url: 'https://login.example.com/token' } },
  ],
  [
    'TokenURI: a POST prefix in any case',
    { ...REFRESH, TokenURI: '  post   https://login.example.com/token ' },
    { tokenEndpoint: { method: 'POST', url: 'https://login.example.com/token' } },
  ],
  [
    "RefreshTokenURI without a verb takes TokenURI's",
    { ...REFRESH, RefreshTokenURI: 'https://login.example.com/refresh' },
    {
      tokenEndpoint: { method: 'POST' },
      refreshTokenEndpoint: { method: 'POST', url: 'https://login.example.com/refresh' },
    },
  ],
  [
    'RefreshTokenURI with a verb of its own',
    {
      ...REFRESH,
      TokenURI: 'https://login.example.com/token',
      RefreshTokenURI: 'POST https://login.example.com/refresh',
    },
    { tokenEndpoint: { method: 'GET' }, refreshTokenEndpoint: { method: 'POST' } },
  ],
  [
    'RevokeURI and DeviceAuthURI (a POST prefix is accepted: they are always POSTed)',
    {
      ...REFRESH,
      RevokeURI: 'https://login.example.com/revoke',
      DeviceAuthURI: 'POST https://login.example.com/device',
    },
    {
      revokeUri: 'https://login.example.com/revoke',
      deviceAuthUri: 'https://login.example.com/device',
    },
  ],
  [
    'ClientCredentialsMode takes the RFC 8705 names, any case',
    {
      ...REFRESH,
      ClientCredentialsMode: 'TLS_Client_Auth',
      ClientCertificate: 'client.pem',
    },
    { clientCredentialsMode: 'tls_client_auth', clientCertificate: { file: 'client.pem' } },
  ],
  [
    'a client certificate with its key file and password',
    {
      ...REFRESH,
      ClientCertificate: 'C:\\certs\\client.pem',
      ClientCertificateKey: 'client-key.pem',
      ClientCertificatePassword: 'pw',
    },
    {
      clientCertificate: {
        file: 'C:\\certs\\client.pem',
        keyFile: 'client-key.pem',
        password: 'pw',
      },
    },
  ],
  [
    'TokenRequestFormat in any case',
    { ...REFRESH, TokenRequestFormat: 'JSON' },
    { tokenRequestFormat: 'json' },
  ],
  [
    'TokenParams as form pairs',
    { ...REFRESH, TokenParams: 'audience=x&resource=https%3A%2F%2Fr' },
    {
      tokenParams: {
        kind: 'form',
        pairs: [
          ['audience', 'x'],
          ['resource', 'https://r'],
        ],
      },
    },
  ],
  [
    'TokenParams as a JSON object',
    { ...REFRESH, TokenParams: '{"user_lookup":{"field":"subject","value":"{user}"}}' },
    { tokenParams: { kind: 'json', object: { user_lookup: { field: 'subject' } } } },
  ],
  [
    'client credentials and scope',
    { ...REFRESH, ClientSecret: 's', ClientCredentialsMode: '3', Scope: 'read write' },
    { clientId: 'cid', clientSecret: 's', clientCredentialsMode: 3, scope: 'read write' },
  ],
  // credentials
  [
    'static and login credentials pass through',
    {
      AuthenticationMethod: '56',
      ClientID: 'c',
      TokenURI: TOKEN_URI,
      AuthURI: 'https://login.example.com/authorize?prompt=consent',
      RedirectURI: 'http://127.0.0.1:7777/cb',
      OAuthCode: 'code',
      ...HOST,
    },
    {
      authUri: 'https://login.example.com/authorize?prompt=consent',
      redirectUri: 'http://127.0.0.1:7777/cb',
      oauthCode: 'code',
    },
  ],
  // upstream: HostName, PortNumber, RestSamplePath, AllowedHosts, HealthURI
  [
    'HostName loses its trailing slash, query and fragment',
    { HostName: 'https://api.example.com/v1/?x=1#f' },
    { upstream: 'https://api.example.com/v1', credentialOrigins: ['https://api.example.com'] },
  ],
  [
    'a bare HostName means https',
    { HostName: 'api.example.com' },
    { upstream: 'https://api.example.com/' },
  ],
  [
    'a bare HostName with PortNumber=80 means http',
    { HostName: 'api.example.com', PortNumber: '80' },
    { upstream: 'http://api.example.com/' },
  ],
  [
    'PortNumber fills a port HostName does not give',
    { HostName: 'https://api.example.com', PortNumber: '8443' },
    { upstream: 'https://api.example.com:8443/' },
  ],
  [
    "PortNumber does not replace HostName's own port",
    { HostName: 'https://api.example.com:9443', PortNumber: '8443' },
    { upstream: 'https://api.example.com:9443/' },
  ],
  [
    "without HostName, RestSamplePath's origin (quoted, as DataDirect's examples write it)",
    { RestSamplePath: "'https://api.example.com/v2/items?x=1'" },
    { upstream: 'https://api.example.com/' },
  ],
  [
    'AllowedHosts: bare hosts mean https, the upstream comes first, repeats are dropped',
    {
      ...HOST,
      AllowedHosts: 'files.example.com, http://cdn.example.com:8080 https://api.example.com',
    },
    {
      credentialOrigins: [
        'https://api.example.com',
        'https://files.example.com',
        'http://cdn.example.com:8080',
      ],
    },
  ],
  ['AllowedOrigins: none by default', { ...HOST }, { browserOrigins: [] }],
  [
    'AllowedOrigins: written as a browser writes Origin (default port dropped, bare host https)',
    {
      ...HOST,
      AllowedOrigins: 'https://Qlik.Example.com:443/, http://localhost:3000 app.example.com',
    },
    {
      browserOrigins: [
        'https://qlik.example.com',
        'http://localhost:3000',
        'https://app.example.com',
      ],
      credentialOrigins: ['https://api.example.com'],
    },
  ],
  [
    'HealthURI',
    { ...HOST, HealthURI: 'https://api.example.com/me' },
    { healthUri: 'https://api.example.com/me' },
  ],
  // placement: TokenPlacement, TokenScheme, AuthHeader, AuthParam
  [
    'TokenPlacement=header:NAME: the token alone',
    { ...REFRESH, TokenPlacement: 'header:X-Api-Key' },
    { tokenPlacement: { kind: 'header', name: 'X-Api-Key', scheme: false } },
  ],
  [
    'TokenPlacement=header:authorization keeps the scheme',
    { ...REFRESH, TokenPlacement: 'Header:authorization' },
    { tokenPlacement: { kind: 'header', name: 'authorization', scheme: true } },
  ],
  [
    'TokenPlacement=query:NAME',
    { ...REFRESH, TokenPlacement: 'query:access_token' },
    { tokenPlacement: { kind: 'query', name: 'access_token' } },
  ],
  [
    'TokenScheme, trimmed',
    { ...REFRESH, TokenScheme: ' Zoho-oauthtoken ' },
    { tokenScheme: 'Zoho-oauthtoken' },
  ],
  [
    'AuthHeader and AuthParam',
    {
      AuthenticationMethod: '14',
      AuthParam: 'api_key',
      SecurityToken: 'st',
      AuthHeader: 'X-Key',
      ...HOST,
    },
    { authParam: 'api_key', authHeader: 'X-Key', securityToken: 'st' },
  ],
  // transport
  [
    'the outbound proxy',
    { ...HOST, ProxyHost: 'proxy.corp', ProxyPort: '3128', ProxyUser: 'u', ProxyPassword: 'p' },
    { outboundProxy: { host: 'proxy.corp', port: 3128, user: 'u', password: 'p' } },
  ],
  [
    'ProxyPort alone turns nothing on',
    { ...HOST, ProxyPort: '3128' },
    { outboundProxy: undefined },
  ],
  [
    'TLS and timeouts',
    {
      ...HOST,
      ValidateServerCertificate: 'No',
      TrustStore: 'ca.pem',
      HostNameInCertificate: 'internal.example',
      ConnectTimeout: '5',
      HeadersTimeout: '30',
      BodyTimeout: '120',
    },
    {
      validateServerCertificate: false,
      trustStore: 'ca.pem',
      hostNameInCertificate: 'internal.example',
      connectTimeoutSeconds: 5,
      headersTimeoutSeconds: 30,
      bodyTimeoutSeconds: 120,
    },
  ],
  // token lifecycle
  [
    'refresh, replay and the store',
    {
      ...HOST,
      RefreshMargin: '0',
      Prefetch: '1',
      DefaultTokenLifetime: '600',
      RefreshOnStatus: '401, 403',
      ReplayBodyLimit: '0',
      TokenStore: 'redis://cache:6379/0',
      TokenStoreKey: 'shared',
      MaxUserTokens: '5',
    },
    {
      refreshMarginSeconds: 0,
      prefetch: true,
      defaultTokenLifetimeSeconds: 600,
      refreshOnStatus: [401, 403],
      replayBodyLimitBytes: 0,
      tokenStore: 'redis://cache:6379/0',
      tokenStoreKey: 'shared',
      maxUserTokens: 5,
    },
  ],
  // local access
  [
    'a dedicated port, CONNECT and the token route',
    {
      ...HOST,
      ListenPort: '9001',
      InterceptTLS: 'yes',
      TunnelOtherHosts: 'on',
      ExposeTokens: 'true',
      AdminKey: 'admin-key-0123456789',
    },
    {
      listenPort: 9001,
      interceptTls: true,
      tunnelOtherHosts: true,
      exposeTokens: true,
      adminKey: 'admin-key-0123456789',
    },
  ],
];

t.test('each family resolves what the user wrote', async (t) => {
  for (const [what, options, expected] of RESOLVES) {
    const { dsn, problems } = resolve(options);
    t.same(
      problems.filter((p) => p.severity === 'error'),
      [],
      what,
    );
    t.match(plain(dsn), expected, what);
  }
});

t.test('where each option came from, for messages', async (t) => {
  const { dsn } = resolve({ ...HOST, cid: 'c' });
  t.same(dsn?.origins.get('ClientID'), { source: 'odbc.ini', line: 3, key: 'cid' });
});

t.test(
  'collectDsn: unknown keys warn with a suggestion; a key set twice is an error',
  async (t) => {
    const problems: ConfigProblem[] = [];
    const entries = [
      ['ClientSecert', 's'],
      ['ClientID', 'a'],
      ['cid', 'b'],
      ['Frobnicate', 'x'],
    ].map(([key, value], i) => ({
      key: key!,
      value: value!,
      origin: { source: 'odbc.ini', line: i + 2, key: key! },
    }));
    const raw = collectDsn('d', 'odbc.ini', 1, entries, problems);
    t.same([...raw.values.keys()], ['ClientID']);
    t.same(problems, [
      {
        severity: 'warning',
        source: 'odbc.ini',
        line: 2,
        dsn: 'd',
        key: 'ClientSecert',
        message: 'unknown option "ClientSecert" is ignored',
        fix: 'did you mean ClientSecret?',
      },
      {
        severity: 'error',
        source: 'odbc.ini',
        line: 4,
        dsn: 'd',
        key: 'cid',
        message: 'ClientID is set twice: as ClientID (line 3) and as cid',
        fix: 'keep one of them',
      },
      {
        severity: 'warning',
        source: 'odbc.ini',
        line: 5,
        dsn: 'd',
        key: 'Frobnicate',
        message: 'unknown option "Frobnicate" is ignored',
        fix: 'see the option table in the README',
      },
    ]);
  },
);

t.test(
  'collectDsn: DataDirect-only options get a note that says what DataDirect does with them, not "did you mean"',
  async (t) => {
    const problems: ConfigProblem[] = [];
    const entries = [
      ['CreateMap', '2'],
      ['wstimeout', '60'],
      ['SchemaMapp', 'x.config'],
    ].map(([key, value], i) => ({
      key: key!,
      value: value!,
      origin: { source: 'odbc.ini', line: i + 2, key: key! },
    }));
    const raw = collectDsn('d', 'odbc.ini', 1, entries, problems);
    t.same([...raw.values.keys()], [], 'none of them is an option tokenshim reads');
    t.same(problems, [
      {
        severity: 'note',
        source: 'odbc.ini',
        line: 2,
        dsn: 'd',
        key: 'CreateMap',
        message:
          'DataDirect option, not used by tokenshim: whether the driver creates, keeps or refreshes its relational map of the REST data on connect',
        fix: 'nothing to do; it stays in place for the DataDirect driver',
      },
      {
        severity: 'note',
        source: 'odbc.ini',
        line: 3,
        dsn: 'd',
        key: 'wstimeout',
        message:
          'DataDirect option, not used by tokenshim: seconds the driver waits for a REST response before it gives up (tokenshim: ConnectTimeout, HeadersTimeout, BodyTimeout)',
        fix: 'nothing to do; it stays in place for the DataDirect driver',
      },
      {
        severity: 'warning',
        source: 'odbc.ini',
        line: 4,
        dsn: 'd',
        key: 'SchemaMapp',
        message: 'unknown option "SchemaMapp" is ignored',
        fix: 'see the option table in the README',
      },
    ]);
    t.notOk(hasErrors(problems), 'notes and warnings do not refuse the DSN');
  },
);
