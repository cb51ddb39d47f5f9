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
