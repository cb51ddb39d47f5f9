import t from 'tap';
import { applyQueryCredential } from '../../lib/http/query-credential.js';

const cred = { headers: [], query: [['access_token', 'tok en/1']] as [string, string][] };

t.test('sets the parameter, replacing same-named ones, other bytes untouched', async (t) => {
  t.equal(applyQueryCredential('/x', cred), '/x?access_token=tok%20en%2F1');
  t.equal(applyQueryCredential('/x?', cred), '/x?access_token=tok%20en%2F1');
  t.equal(
    applyQueryCredential('/x?a=%20+b&access_token=old&access%5Ftoken=enc&c', cred),
    '/x?a=%20+b&c&access_token=tok%20en%2F1',
  );
});

t.test('malformed escapes in other parameters are kept as they are', async (t) => {
  t.equal(
    applyQueryCredential('/x?bad=%E0%A4%A&y=1', cred),
    '/x?bad=%E0%A4%A&y=1&access_token=tok%20en%2F1',
  );
});

t.test('no query credential: the path is returned as is', async (t) => {
  t.equal(applyQueryCredential('/x?access_token=mine', { query: [] }), '/x?access_token=mine');
});
