import t from 'tap';
import {
  RETRY_DEFAULTS,
  RetryBudget,
  retryAfterOf,
  retryWaitMs,
} from '../../../lib/proxy/forward/upstream-retry.js';

const now = Date.UTC(2026, 0, 1, 12, 0, 0);

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
