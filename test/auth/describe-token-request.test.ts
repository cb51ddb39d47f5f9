import t from 'tap';
import { describeTokenRequest } from '../../lib/auth/describe-token-request.js';
import { makeDsn, type DsnOverrides } from '../fixtures/make-dsn.js';

const GET = { method: 'GET' as const, url: new URL('https://login.example.com/token') };
const POST = { method: 'POST' as const, url: new URL('https://login.example.com/token') };
const CLIENT = { clientId: 'cid', clientSecret: 'secret-value-1' };

t.test('the words check prints are read off the request tokenshim builds', async (t) => {
  const cases: [string, DsnOverrides, string, string][] = [
    [
      'mode 0 by POST',
      { ...CLIENT, tokenEndpoint: POST },
      'parameters in the form body',
      'HTTP Basic header (ClientCredentialsMode=0)',
    ],
    [
      'mode 1 by GET: Basic still goes in the header',
      { ...CLIENT, clientCredentialsMode: 1, tokenEndpoint: GET },
      'parameters in the URL query of the GET',
      'HTTP Basic header (ClientCredentialsMode=1)',
    ],
    [
      'mode 2 by POST',
      { ...CLIENT, clientCredentialsMode: 2, tokenEndpoint: POST },
      'parameters in the form body',
      'client_id and client_secret in the URL query of the POST (ClientCredentialsMode=2)',
    ],
    [
      'mode 3 by POST',
      { ...CLIENT, clientCredentialsMode: 3, tokenEndpoint: POST },
      'parameters in the form body',
      'client_id and client_secret in the form body (ClientCredentialsMode=3)',
    ],
    [
      'mode 3 by GET: "POST body" is not what is sent',
      { ...CLIENT, clientCredentialsMode: 3, tokenEndpoint: GET },
      'parameters in the URL query of the GET',
      'client_id and client_secret in the URL query of the GET (ClientCredentialsMode=3 asks for the body; a GET has none)',
    ],
    [
      'mode 3 with a JSON body',
      { ...CLIENT, clientCredentialsMode: 3, tokenEndpoint: POST, tokenRequestFormat: 'json' },
      'parameters in the JSON body',
      'client_id and client_secret in the JSON body (ClientCredentialsMode=3)',
    ],
    [
      'a public client by POST',
      { clientId: 'cid', tokenEndpoint: POST },
      'parameters in the form body',
      'public client (no ClientSecret): client_id in the form body',
    ],
    [
      'a public client by GET',
      { clientId: 'cid', tokenEndpoint: GET },
      'parameters in the URL query of the GET',
      'public client (no ClientSecret): client_id in the URL query of the GET',
    ],
    [
      'TokenRequestFormat=query',
      { ...CLIENT, clientCredentialsMode: 3, tokenEndpoint: POST, tokenRequestFormat: 'query' },
      'parameters in the URL query of the POST',
      'client_id and client_secret in the URL query of the POST (ClientCredentialsMode=3)',
    ],
  ];
  for (const [what, o, parameters, clientAuth] of cases) {
    const dsn = makeDsn({ method: 54, refreshToken: 'rt', ...o });
    t.same(describeTokenRequest(dsn), { parameters, clientAuth }, what);
  }
  const password = makeDsn({ method: 52, user: 'u', password: 'p', tokenEndpoint: POST });
  t.equal(
    describeTokenRequest({ ...password, clientId: undefined })?.clientAuth,
    'none (no ClientID): the grant alone proves the request',
  );
  t.equal(
    describeTokenRequest(makeDsn({ method: 15 })),
    undefined,
    'no TokenURI, no token request',
  );
});
