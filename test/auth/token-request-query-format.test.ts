import t from 'tap';
import { clientSecretQuery } from '../../lib/auth/client-auth.js';
import { buildTokenRequest } from '../../lib/auth/token-endpoint.js';
import type { TokenEndpoint } from '../../lib/config/dsn.js';

// TokenRequestFormat=query, for token endpoints documented as a POST whose parameters all
// sit in the URL (Zoho Accounts, GitHub's login/oauth/access_token)
const zoho: TokenEndpoint = {
  method: 'POST',
  url: new URL('https://accounts.zoho.com/oauth/v2/token'),
};

t.test(
  'TokenRequestFormat=query: a POST without a body, every parameter in the query string',
  async (t) => {
    const req = buildTokenRequest({
      endpoint: zoho,
      format: 'query',
      grant: [
        ['grant_type', 'refresh_token'],
        ['refresh_token', '1000.rt&with=odd+chars'],
      ],
      scope: 'ZohoCRM.modules.ALL',
      tokenParams: { kind: 'form', pairs: [['access_type', 'offline']] },
      clientAuth: clientSecretQuery('1000.id', 's3cr+t/='),
    });
    t.equal(req.method, 'POST');
    t.equal(req.body, undefined, 'no body');
    t.equal(req.headers['content-type'], undefined, 'no content type for a body that is not there');
    t.same(Object.fromEntries(req.url.searchParams), {
      client_id: '1000.id',
      client_secret: 's3cr+t/=',
      grant_type: 'refresh_token',
      refresh_token: '1000.rt&with=odd+chars',
      scope: 'ZohoCRM.modules.ALL',
      access_type: 'offline',
    });
    t.match(
      req.url.search,
      /refresh_token=1000\.rt%26with%3Dodd%2Bchars/,
      'values are URL-encoded',
    );
  },
);

t.test('TokenRequestFormat=query keeps query parameters already in TokenURI', async (t) => {
  const req = buildTokenRequest({
    endpoint: { method: 'POST', url: new URL('https://idp.example/token?tenant=7') },
    format: 'query',
    grant: [['grant_type', 'client_credentials']],
    clientAuth: () => undefined,
  });
  t.equal(req.url.search, '?tenant=7&grant_type=client_credentials');
});
