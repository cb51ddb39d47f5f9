import t from 'tap';
import { BACKOFF, backoffDelayMs } from '../../lib/auth/backoff.js';

t.test('exponential with equal jitter: half fixed, half random', async (t) => {
  t.same(
    [1, 2, 3, 4].map((n) => backoffDelayMs(n, () => 0)),
    [500, 1000, 2000, 4000],
    'random() = 0: the fixed half',
  );
  t.same(
    [1, 2, 3, 4].map((n) => backoffDelayMs(n, () => 0.999999)),
    [1000, 2000, 4000, 8000],
    'random() → 1: the full ceiling',
  );
  t.equal(
    backoffDelayMs(50, () => 1),
    BACKOFF.maxMs,
    'capped at maxMs',
  );
});

t.test('never sooner than Retry-After, which is itself capped', async (t) => {
  t.equal(
    backoffDelayMs(1, () => 0, 30_000),
    30_000,
  );
  t.equal(
    backoffDelayMs(1, () => 0, 10),
    500,
    'a short Retry-After does not shorten the backoff',
  );
  t.equal(
    backoffDelayMs(1, () => 0, 7 * 24 * 3600_000),
    BACKOFF.maxRetryAfterMs,
  );
});
