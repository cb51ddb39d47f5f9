import t from 'tap';
import { FakeClock, MAX_TIMER_MS, systemClock } from '../lib/clock.js';

const DAY_MS = 24 * 3600 * 1000;

t.test(
  'systemClock: a wait past the platform maximum (25 days and more) is clamped, not turned into 1 ms',
  async (t) => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    t.teardown(() => void process.off('warning', onWarning));
    let fired = 0;
    const timer = systemClock.setTimeout(() => fired++, 30 * DAY_MS);
    t.teardown(() => systemClock.clearTimeout(timer));
    // an overflowing delay becomes 1 ms: it would have fired (and warned) by now
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.equal(fired, 0, 'not fired');
    t.notOk(warnings.includes('TimeoutOverflowWarning'), 'no TimeoutOverflowWarning');
  },
);

t.test('FakeClock fires a long wait at the platform maximum, as the platform does', async (t) => {
  const clock = new FakeClock(0);
  let firedAt: number | undefined;
  clock.setTimeout(() => (firedAt = clock.now()), 30 * DAY_MS);
  clock.advance(30 * DAY_MS);
  t.equal(firedAt, MAX_TIMER_MS);
  t.equal(MAX_TIMER_MS, 2_147_483_647);
});
