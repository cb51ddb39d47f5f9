import t from 'tap';
import {
  RETRY_DEFAULTS,
  RetryBudget,
  parseRetryAfterMs,
  retryAfterOf,
  retryWaitMs,
} from '../../../lib/proxy/forward/upstream-retry.js';

const now = Date.UTC(2026, 0, 1, 12, 0, 0);

t.test('Retry-After: delay-seconds or an HTTP date (RFC 9110 10.2.3)', async (t) => {
  t.equal(parseRetryAfterMs('120', now), 120_000);
  t.equal(parseRetryAfterMs(' 0 ', now), 0);
  t.equal(parseRetryAfterMs('Thu, 01 Jan 2026 12:00:05 GMT', now), 5000);
  t.equal(parseRetryAfterMs('Thu, 01 Jan 2026 11:59:00 GMT', now), 0, 'a date past means now');
  t.equal(parseRetryAfterMs('soon', now), undefined);
  t.equal(parseRetryAfterMs('-5', now), undefined);
  t.equal(parseRetryAfterMs(undefined, now), undefined);
});

t.test('the header is found in undici’s raw list whatever its case', async (t) => {
  const raw = ['Content-Type', 'application/json', 'RETRY-AFTER', '7'].map((s) => Buffer.from(s));
  t.equal(retryAfterOf(raw), '7');
  t.equal(retryAfterOf([Buffer.from('x-retry-after-ms'), Buffer.from('1')]), undefined);
});

t.test(
  'the wait: Retry-After, else doubling from 1 s; none past the budget or the count',
  async (t) => {
    t.equal(retryWaitMs({ retries: 0, waitedMs: 0 }, undefined, now, 30_000), 1000);
    t.equal(retryWaitMs({ retries: 2, waitedMs: 3000 }, undefined, now, 30_000), 4000);
    t.equal(
      retryWaitMs({ retries: 0, waitedMs: 0 }, '30', now, 30_000),
      30_000,
      'exactly the budget',
    );
    t.equal(retryWaitMs({ retries: 0, waitedMs: 0 }, '31', now, 30_000), undefined);
    t.equal(retryWaitMs({ retries: 1, waitedMs: 20_000 }, '11', now, 30_000), undefined);
    t.equal(
      retryWaitMs({ retries: RETRY_DEFAULTS.maxRetries, waitedMs: 0 }, '0', now, 30_000),
      undefined,
      'retries used up',
    );
    t.equal(retryWaitMs({ retries: 0, waitedMs: 0 }, '0', now, 0), undefined, 'MaxRetryWait=0');
  },
);

t.test('a budget counts what it hands out', async (t) => {
  const budget = new RetryBudget();
  t.equal(budget.take('10', now, 25_000), 10_000);
  t.equal(budget.take('10', now, 25_000), 10_000);
  t.equal(budget.take('10', now, 25_000), undefined);
  t.same({ retries: budget.retries, waitedMs: budget.waitedMs }, { retries: 2, waitedMs: 20_000 });
});
