import t from 'tap';
import { FakeClock } from '../../lib/clock.js';
import { LEAF_CACHE_DEFAULTS, LeafCertificateCache } from '../../lib/tls/leaf-cache.js';
import { LOCAL_CA_DEFAULTS, LocalCa } from '../../lib/tls/local-ca.js';

const DAY_MS = 24 * 60 * 60 * 1000;

t.test('a cached leaf is reused until it nears expiry, then signed again', async (t) => {
  const clock = new FakeClock();
  const { ca } = await LocalCa.create({ clock });
  const cache = new LeafCertificateCache(ca, { clock });
  const first = await cache.secureContextFor('api.example.com');
  clock.advance(
    LOCAL_CA_DEFAULTS.leafValidityDays * DAY_MS - LEAF_CACHE_DEFAULTS.renewBeforeMs - DAY_MS,
  );
  t.equal(await cache.secureContextFor('api.example.com'), first);
  t.equal(ca.leavesIssued, 1);
  clock.advance(2 * DAY_MS);
  t.not(await cache.secureContextFor('api.example.com'), first, 'renewed inside the last week');
  t.equal(ca.leavesIssued, 2);
});

t.test('the cache is bounded: the least recently used host is dropped', async (t) => {
  const { ca } = await LocalCa.create();
  const cache = new LeafCertificateCache(ca, { maxEntries: 2 });
  await cache.secureContextFor('a.example');
  await cache.secureContextFor('b.example');
  await cache.secureContextFor('a.example');
  await cache.secureContextFor('c.example');
  t.equal(cache.size, 2);
  t.equal(ca.leavesIssued, 3);
  await cache.secureContextFor('a.example');
  t.equal(ca.leavesIssued, 3, 'a was used recently and kept');
  await cache.secureContextFor('b.example');
  t.equal(ca.leavesIssued, 4, 'b was dropped and signed again');
});
