import t from 'tap';
import {
  rewriteLinkHeader,
  rewriteUrl,
  type LinkRewrite,
} from '../../../lib/proxy/forward/link-rewrite.js';

const gateway: LinkRewrite = {
  upstreamOrigin: 'https://api.example.com',
  upstreamBasePath: '/rest/v1',
  publicOrigin: 'http://127.0.0.1:8790',
  publicBasePath: '/marketo',
};

t.test('absolute URLs under the upstream base go to the gateway route', async (t) => {
  t.equal(
    rewriteUrl('https://api.example.com/rest/v1/leads?page=2#x', gateway),
    'http://127.0.0.1:8790/marketo/leads?page=2#x',
  );
  t.equal(
    rewriteUrl('https://API.example.com:443/rest/v1', gateway),
    'http://127.0.0.1:8790/marketo',
  );
  t.equal(
    rewriteUrl('//api.example.com/rest/v1/a', gateway),
    'http://127.0.0.1:8790/marketo/a',
    'scheme-relative',
  );
});

t.test('path-absolute references under the base path are re-based, others kept', async (t) => {
  t.equal(rewriteUrl('/rest/v1/leads/2', gateway), '/marketo/leads/2');
  t.equal(rewriteUrl('/rest/v1?x=1', gateway), '/marketo?x=1');
  t.equal(
    rewriteUrl('/rest/v10/x', gateway),
    '/rest/v10/x',
    'a longer segment is not inside the base',
  );
  t.equal(
    rewriteUrl('next?page=3', gateway),
    'next?page=3',
    'relative references already resolve on the proxy',
  );
});

t.test(
  'URLs elsewhere are left alone (a client following them goes without credentials)',
  async (t) => {
    t.equal(
      rewriteUrl('https://login.example.com/authorize', gateway),
      'https://login.example.com/authorize',
    );
    t.equal(
      rewriteUrl('http://api.example.com/rest/v1/x', gateway),
      'http://api.example.com/rest/v1/x',
      'other scheme',
    );
    t.equal(
      rewriteUrl('https://api.example.com/other', gateway),
      'https://api.example.com/other',
      'outside the base',
    );
    t.equal(rewriteUrl('http://[bad', gateway), 'http://[bad', 'unparseable values pass through');
  },
);

t.test('forward proxy and dedicated port routes', async (t) => {
  const forward: LinkRewrite = {
    upstreamOrigin: 'https://api.example.com',
    upstreamBasePath: '',
    publicOrigin: 'http://api.example.com',
    publicBasePath: '',
  };
  t.equal(
    rewriteUrl('https://api.example.com/any/path?q', forward),
    'http://api.example.com/any/path?q',
  );
  t.equal(rewriteUrl('https://api.example.com', forward), 'http://api.example.com/');
  const dedicated: LinkRewrite = {
    ...gateway,
    publicOrigin: 'http://127.0.0.1:9001',
    publicBasePath: '',
  };
  t.equal(rewriteUrl('https://api.example.com/rest/v1/x', dedicated), 'http://127.0.0.1:9001/x');
  t.equal(rewriteUrl('/rest/v1', dedicated), '/');
  t.equal(rewriteUrl('/rest/v1?a=1', dedicated), '/?a=1');
});

t.test('Link: every target is rewritten and parameters kept (RFC 8288)', async (t) => {
  t.equal(
    rewriteLinkHeader(
      '<https://api.example.com/rest/v1/items?page=2>; rel="next", <https://cdn.example.com/x>; rel="icon"',
      gateway,
    ),
    '<http://127.0.0.1:8790/marketo/items?page=2>; rel="next", <https://cdn.example.com/x>; rel="icon"',
  );
});

t.test('the query and fragment keep the bytes the upstream wrote', async (t) => {
  t.equal(
    rewriteUrl(
      "https://api.example.com/rest/v1/items?filter=name eq 'a'&$skiptoken=X%2bY#f",
      gateway,
    ),
    "http://127.0.0.1:8790/marketo/items?filter=name eq 'a'&$skiptoken=X%2bY#f",
  );
  t.equal(
    rewriteUrl('https://api.example.com/rest/v1/a/../b?x=1', gateway),
    'http://127.0.0.1:8790/marketo/b?x=1',
    'a path with dot segments is taken as the parser resolves it',
  );
  t.equal(
    rewriteUrl('https://api.example.com/rest/x/../v1/c', gateway),
    'http://127.0.0.1:8790/marketo/c',
  );
  t.equal(
    rewriteUrl('https://api.example.com/rest/v1/../admin', gateway),
    'https://api.example.com/rest/v1/../admin',
    'a path that resolves outside the base is not mapped onto the DSN',
  );
});

t.test('credential query parameters are never handed to the client', async (t) => {
  const withCredential: LinkRewrite = { ...gateway, credentialParams: ['access_token'] };
  t.equal(
    rewriteUrl(
      'https://api.example.com/rest/v1/leads?nextPageToken=abc&access_token=SECRET&batchSize=2',
      withCredential,
    ),
    'http://127.0.0.1:8790/marketo/leads?nextPageToken=abc&batchSize=2',
  );
  t.equal(
    rewriteUrl('https://api.example.com/rest/v1/leads?access%5Ftoken=SECRET#top', withCredential),
    'http://127.0.0.1:8790/marketo/leads#top',
    'an encoded name is the same parameter; an emptied query goes with its ?',
  );
  t.equal(
    rewriteUrl('/rest/v1/leads?access_token=SECRET&page=2', withCredential),
    '/marketo/leads?page=2',
  );
  t.equal(
    rewriteLinkHeader(
      '<https://api.example.com/rest/v1/x?access_token=SECRET>; rel="next"',
      withCredential,
    ),
    '<http://127.0.0.1:8790/marketo/x>; rel="next"',
  );
  t.equal(
    rewriteUrl('https://elsewhere.example.com/x?access_token=THEIRS', withCredential),
    'https://elsewhere.example.com/x?access_token=THEIRS',
    'a URL that is not rewritten is not ours to edit',
  );
});
