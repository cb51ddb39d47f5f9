/**
 * resolveDsn without files: each bad value of each option, and the exact problems it produces, at
 * the line of its key. Any error refuses the DSN; warnings do not.
 */
import t from 'tap';
import {
  HOST,
  REFRESH,
  expectProblems,
  resolve,
  type Expected,
  type Options,
} from '../fixtures/resolve-options.js';

/** the JSON parser's own words, which differ between Node versions */
function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${text} is JSON`);
}

/** [what, options, every problem it produces, in order] */
const CASES: [string, Options, Expected[]][] = [
  [
    'a DSN with no options',
    {},
    [
      [
        'error',
        undefined,
        'this DSN has no options',
        'add AuthenticationMethod, HostName and the options its method needs, or remove the section',
      ],
    ],
  ],
  [
    'a line break in a value',
    { ...HOST, ClientSecret: 'abc\r\nX-Injected: 1' },
    [
      [
        'error',
        'ClientSecret',
        'the value contains a line break or NUL character, which would end up in an HTTP header',
        'remove the control character',
      ],
    ],
  ],
  [
    'an unknown method',
    { ...HOST, AuthenticationMethod: '99' },
    [
      [
        'error',
        'AuthenticationMethod',
        'AuthenticationMethod=99 is not a DataDirect authentication method',
        'use a number or name such as 54 (OAuth2-RefreshToken), 53 (OAuth2-ClientCredentials), 34 (BearerToken) or 15 (None)',
      ],
    ],
  ],
  ...(['30 (Digest)', '43 (AWS)', '29 (Custom)'].map((m): [string, Options, Expected[]] => [
    `method ${m}`,
    { ...HOST, AuthenticationMethod: m.split(' ')[0]!, RefreshMargin: 'x' },
    [
      [
        'error',
        'AuthenticationMethod',
        `AuthenticationMethod=${m} is not supported by tokenshim yet`,
        'use an OAuth2 method (50-56), BearerToken (34), HttpHeader (25), UrlParameter (14), Basic (0) or None (15)',
      ],
    ],
  ]) satisfies [string, Options, Expected[]][]),
  [
    'TokenURI with PUT',
    { ...REFRESH, TokenURI: 'PUT https://x/t' },
    [
      [
        'error',
        'TokenURI',
        'TokenURI starts with "PUT", but a token request can only be GET or POST',
        'write TokenURI=POST https://... (or no prefix for GET)',
      ],
    ],
  ],
  [
    'TokenURI that is not http(s)',
    { ...REFRESH, TokenURI: 'POST ftp://x/t' },
    [
      [
        'error',
        'TokenURI',
        'TokenURI "ftp://x/t" is not an http:// or https:// URL',
        'write the token endpoint as a full URL, e.g. TokenURI=POST https://login.example.com/oauth/token',
      ],
    ],
  ],
  [
    'TokenRequestFormat',
    { ...REFRESH, TokenRequestFormat: 'XML' },
    [
      [
        'error',
        'TokenRequestFormat',
        'TokenRequestFormat=xml is not form, json or query',
        'write form (RFC 6749 bodies), json, or query (parameters in the URL, as Zoho wants)',
      ],
    ],
  ],
  [
    'TokenParams that looks like JSON',
    { ...REFRESH, TokenParams: '{"a":' },
    [
      [
        'error',
        'TokenParams',
        `TokenParams looks like JSON but does not parse: ${jsonError('{"a":')}`,
        'write a JSON object such as {"audience":"x"}, or form pairs such as audience=x&resource=y',
      ],
    ],
  ],
  [
    'TokenParams cannot change grant_type (form)',
    { ...REFRESH, TokenParams: 'grant_type=password&audience=x' },
    [
      [
        'warning',
        'TokenParams',
        'TokenParams cannot change grant_type; that entry is ignored',
        'use GrantType=... instead',
      ],
    ],
  ],
  [
    'TokenParams cannot change grant_type (JSON)',
    { ...REFRESH, TokenParams: '{"grant_type":"password"}' },
    [
      [
        'warning',
        'TokenParams',
        'TokenParams cannot change grant_type; that entry is ignored',
        'use GrantType=... instead',
      ],
    ],
  ],
  [
    'ClientCredentialsMode out of range',
    { ...REFRESH, ClientCredentialsMode: '7' },
    [
      [
        'error',
        'ClientCredentialsMode',
        'ClientCredentialsMode=7 is not 0, 1, 2, 3, tls_client_auth or self_signed_tls_client_auth',
        'write a number from 0 to 3 (how ClientSecret is sent), or tls_client_auth or self_signed_tls_client_auth (RFC 8705: ClientCertificate authenticates the client)',
      ],
    ],
  ],
  [
    'RefreshTokenURI with PUT',
    { ...REFRESH, RefreshTokenURI: 'PUT https://x/refresh' },
    [
      [
        'error',
        'RefreshTokenURI',
        'RefreshTokenURI starts with "PUT", but a token request can only be GET or POST',
        'write RefreshTokenURI=POST https://... (or no prefix for GET)',
      ],
    ],
  ],
  [
    'RefreshTokenURI that is not a URL',
    { ...REFRESH, RefreshTokenURI: '/oauth/refresh' },
    [
      [
        'error',
        'RefreshTokenURI',
        'RefreshTokenURI "/oauth/refresh" is not an http:// or https:// URL',
        'write the refresh endpoint as a full URL, e.g. RefreshTokenURI=POST https://login.example.com/oauth/refresh',
      ],
    ],
  ],
  [
    'RevokeURI with GET (RFC 7009 only POSTs)',
    { ...REFRESH, RevokeURI: 'GET https://x/revoke' },
    [
      [
        'error',
        'RevokeURI',
        'RevokeURI starts with GET, but the revocation endpoint only takes POST (RFC 7009 2.1)',
        'write RevokeURI=https://... (tokenshim POSTs to it)',
      ],
    ],
  ],
  [
    'DeviceAuthURI that is not a URL',
    { ...REFRESH, DeviceAuthURI: 'device/code' },
    [
      [
        'error',
        'DeviceAuthURI',
        'DeviceAuthURI "device/code" is not an http:// or https:// URL',
        'write the device authorization endpoint as a full URL, e.g. DeviceAuthURI=https://login.example.com/oauth/device/code',
      ],
    ],
  ],
  [
    'HostName that is not http(s)',
    { HostName: 'ftp://a.example' },
    [
      [
        'error',
        'HostName',
        'HostName "ftp://a.example" is not an http(s) URL or host name',
        'write the upstream base URL, e.g. HostName=https://api.example.com/rest/v1',
      ],
    ],
  ],
  [
    'no HostName, and no usable RestSamplePath',
    { RestSamplePath: 'items?page=1' },
    [
      [
        'error',
        'HostName',
        'HostName is missing, so tokenshim does not know where to forward requests',
        'add HostName=https://api.example.com to [d]',
      ],
    ],
  ],
  [
    'PortNumber',
    { HostName: 'a.example', PortNumber: 'eighty' },
    [
      [
        'error',
        'PortNumber',
        'PortNumber=eighty is not a whole number from 1 to 65535',
        'write a number, e.g. PortNumber=1',
      ],
    ],
  ],
  [
    'AllowedHosts: each bad entry by itself',
    { ...HOST, AllowedHosts: 'ftp://files.example.com,https://ok.example.com,https://[' },
    [
      [
        'error',
        'AllowedHosts',
        '"ftp://files.example.com" in AllowedHosts is not a host or origin',
        'list origins such as https://files.example.com',
      ],
      [
        'error',
        'AllowedHosts',
        '"https://[" in AllowedHosts is not a host or origin',
        'list origins such as https://files.example.com',
      ],
    ],
  ],
  [
    'AllowedOrigins: *, null, a path, userinfo and other schemes are each refused',
    {
      ...HOST,
      AllowedOrigins:
        '*,null,https://ok.example.com,https://qlik.example.com/hub,https://u:p@x.example.com,ftp://x.example.com',
    },
    [
      [
        'error',
        'AllowedOrigins',
        '"*" in AllowedOrigins is not a web origin such as https://qlik.example.com (no path; * and null are never allowed)',
        'list each origin whose pages may call this DSN, e.g. AllowedOrigins=https://qlik.example.com',
      ],
      [
        'error',
        'AllowedOrigins',
        '"null" in AllowedOrigins is not a web origin such as https://qlik.example.com (no path; * and null are never allowed)',
        'list each origin whose pages may call this DSN, e.g. AllowedOrigins=https://qlik.example.com',
      ],
      [
        'error',
        'AllowedOrigins',
        '"https://qlik.example.com/hub" in AllowedOrigins is not a web origin such as https://qlik.example.com (no path; * and null are never allowed)',
        'list each origin whose pages may call this DSN, e.g. AllowedOrigins=https://qlik.example.com',
      ],
      [
        'error',
        'AllowedOrigins',
        '"https://u:p@x.example.com" in AllowedOrigins is not a web origin such as https://qlik.example.com (no path; * and null are never allowed)',
        'list each origin whose pages may call this DSN, e.g. AllowedOrigins=https://qlik.example.com',
      ],
      [
        'error',
        'AllowedOrigins',
        '"ftp://x.example.com" in AllowedOrigins is not a web origin such as https://qlik.example.com (no path; * and null are never allowed)',
        'list each origin whose pages may call this DSN, e.g. AllowedOrigins=https://qlik.example.com',
      ],
    ],
  ],
  [
    'HostName with a user name and password: refused, never dropped silently nor printed',
    { HostName: 'https://svc:hunter2-password@api.example.com/v1' },
    [
      [
        'error',
        'HostName',
        'HostName carries a user name or password (https://user:****@host), which tokenshim would not send',
        'remove "user:password@" from HostName; for HTTP Basic set AuthenticationMethod=0 with User and Password',
      ],
    ],
  ],
  [
    'HostName that does not parse: quoted with its password masked',
    { HostName: 'https://svc:hunter2-password@api.example.com:99999/v1' },
    [
      [
        'error',
        'HostName',
        'HostName "https://svc:****rd@api.example.com:99999/v1" is not an http(s) URL or host name',
        'write the upstream base URL, e.g. HostName=https://api.example.com/rest/v1',
      ],
    ],
  ],
  [
    'RestSamplePath with an API key as user name',
    { RestSamplePath: 'https://api-key-0123@api.example.com/v1/items' },
    [
      [
        'error',
        'RestSamplePath',
        'RestSamplePath carries a user name or password (https://user:****@host), which tokenshim would not send',
        'remove "user:password@" from RestSamplePath; for HTTP Basic set AuthenticationMethod=0 with User and Password',
      ],
    ],
  ],
  [
    'TokenURI with the client id and secret as userinfo',
    {
      ...HOST,
      AuthenticationMethod: '53',
      ClientID: 'c',
      ClientSecret: 's',
      TokenURI: 'POST https://c:s3cret@login.example.com/token',
    },
    [
      [
        'error',
        'TokenURI',
        'TokenURI carries a user name or password (https://user:****@host), which tokenshim would not send',
        'remove "user:password@" from TokenURI; put them in ClientID and ClientSecret (ClientCredentialsMode=0 sends them as HTTP Basic)',
      ],
    ],
  ],
  [
    'HealthURI',
    { ...HOST, HealthURI: '/me' },
    [
      [
        'error',
        'HealthURI',
        'HealthURI "/me" is not an http:// or https:// URL',
        'write HealthURI as a full URL',
      ],
    ],
  ],
  [
    'AuthHeader that is not a header name',
    { AuthenticationMethod: '25', SecurityToken: 'st', AuthHeader: 'X Tenant', ...HOST },
    [
      [
        'error',
        'AuthHeader',
        'AuthHeader "X Tenant" is not a valid HTTP header name',
        'use letters, digits and -',
      ],
    ],
  ],
  [
    'TokenPlacement',
    { ...REFRESH, TokenPlacement: 'cookie' },
    [
      [
        'error',
        'TokenPlacement',
        'TokenPlacement=cookie is not header, header:NAME or query:NAME',
        'e.g. TokenPlacement=query:access_token',
      ],
    ],
  ],
  [
    'TokenPlacement=query without a name',
    { ...REFRESH, TokenPlacement: 'query' },
    [
      [
        'error',
        'TokenPlacement',
        'TokenPlacement=query is not header, header:NAME or query:NAME',
        'e.g. TokenPlacement=query:access_token',
      ],
    ],
  ],
  [
    'TokenPlacement with a header name that is not one',
    { ...REFRESH, TokenPlacement: 'header:X Token' },
    [
      [
        'error',
        'TokenPlacement',
        '"X Token" is not a valid HTTP header name',
        'use letters, digits and -',
      ],
    ],
  ],
  [
    'TokenScheme of two words',
    { ...REFRESH, TokenScheme: 'Zoho oauthtoken' },
    [
      [
        'error',
        'TokenScheme',
        'TokenScheme "Zoho oauthtoken" is not one word (RFC 9110 auth-scheme)',
        'write the scheme alone, e.g. TokenScheme=Zoho-oauthtoken',
      ],
    ],
  ],
  [
    'RefreshOnStatus: each bad entry by itself',
    { ...HOST, RefreshOnStatus: '401,abc 200' },
    [
      [
        'error',
        'RefreshOnStatus',
        '"abc" in RefreshOnStatus is not an HTTP error status',
        'list statuses such as 401,403',
      ],
      [
        'error',
        'RefreshOnStatus',
        '"200" in RefreshOnStatus is not an HTTP error status',
        'list statuses such as 401,403',
      ],
    ],
  ],
  [
    'ProxyPort (its fix names the default)',
    { ...HOST, ProxyHost: 'proxy', ProxyPort: '0' },
    [
      [
        'error',
        'ProxyPort',
        'ProxyPort=0 is not a whole number from 1 to 65535',
        'write a number, e.g. ProxyPort=8080',
      ],
    ],
  ],
  [
    'a yes/no option',
    { ...HOST, ValidateServerCertificate: ' Maybe' },
    [
      [
        'error',
        'ValidateServerCertificate',
        'ValidateServerCertificate=maybe is not a yes/no value',
        'write ValidateServerCertificate=1 or ValidateServerCertificate=0',
      ],
    ],
  ],
  [
    'durations and sizes are whole numbers',
    {
      ...HOST,
      RefreshMargin: '-5',
      DefaultTokenLifetime: '0',
      HeadersTimeout: '1.5',
      ReplayBodyLimit: '1MB',
      ListenPort: '70000',
    },
    [
      [
        'error',
        'HeadersTimeout',
        'HeadersTimeout=1.5 is not a whole number',
        'write a number, e.g. HeadersTimeout=60',
      ],
      [
        'error',
        'RefreshMargin',
        'RefreshMargin=-5 is not a whole number',
        'write a number, e.g. RefreshMargin=300',
      ],
      [
        'error',
        'DefaultTokenLifetime',
        'DefaultTokenLifetime=0 is not a whole number',
        'write a number, e.g. DefaultTokenLifetime=3600',
      ],
      [
        'error',
        'ReplayBodyLimit',
        'ReplayBodyLimit=1MB is not a whole number',
        'write a number, e.g. ReplayBodyLimit=1048576',
      ],
      [
        'error',
        'ListenPort',
        'ListenPort=70000 is not a whole number from 1 to 65535',
        'write a number, e.g. ListenPort=1',
      ],
    ],
  ],
];

t.test('each bad input: the exact problems, at the line of the key', async (t) => {
  expectProblems(t, CASES);
});

t.test('no problem repeats a secret value', async (t) => {
  const { problems } = resolve({
    AuthenticationMethod: '54',
    ClientSecret: 'cs-s3cret\n',
    RefreshToken: 'rt-s3cret\0',
    Password: 'pw-s3cret\r',
    ...HOST,
  });
  t.equal(problems.length, 5, 'three control characters, ClientID and TokenURI missing');
  t.notMatch(JSON.stringify(problems), /s3cret/);
});
