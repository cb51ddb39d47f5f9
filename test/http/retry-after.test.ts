import t from 'tap';
import { parseRetryAfter } from '../../lib/http/retry-after.js';

const now = Date.UTC(2026, 0, 1, 12, 0, 0);

t.test('Retry-After: delay-seconds or an HTTP date (RFC 9110 10.2.3)', async (t) => {
  t.equal(parseRetryAfter('120', now), 120_000);
  t.equal(parseRetryAfter(' 0 ', now), 0);
  t.equal(parseRetryAfter('Thu, 01 Jan 2026 12:00:05 GMT', now), 5000);
  t.equal(parseRetryAfter('Thu, 01 Jan 2026 11:59:00 GMT', now), 0, 'a date past means now');
  t.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
  t.equal(parseRetryAfter('soon', now), undefined);
  t.equal(parseRetryAfter('-5', now), undefined);
  t.equal(parseRetryAfter(undefined, now), undefined);
});
