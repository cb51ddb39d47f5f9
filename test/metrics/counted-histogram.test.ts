import t from 'tap';
import { Histogram, Registry } from 'prom-client';
import { CountedHistogram } from '../../lib/metrics/counted-histogram.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const OBSERVED: readonly [string, number][] = [
  ['crm', 0.003],
  ['erp', 0.2],
  ['crm', 0.2],
  ['crm', 0.005],
  ['crm', 7],
  ['erp', 61],
  ['crm', 0.1 + 0.2],
  ['we"ird\\dsn\n', 1],
];

/** The same observations in prom-client's own Histogram and in a CountedHistogram, rendered. */
async function bothRendered(
  observed: readonly (readonly [string, number])[],
): Promise<[string, string]> {
  const reference = new Registry();
  const histogram = new Histogram({
    name: 'tokenshim_upstream_duration_seconds',
    help: 'Time from sending a request upstream to its response headers',
    labelNames: ['dsn'],
    buckets: BUCKETS,
    registers: [reference],
  });
  const counted = new Registry();
  const plain = new CountedHistogram({
    name: 'tokenshim_upstream_duration_seconds',
    help: 'Time from sending a request upstream to its response headers',
    labelName: 'dsn',
    buckets: BUCKETS,
    registry: counted,
  });
  const series = new Map<string, ReturnType<CountedHistogram['series']>>();
  for (const [dsn] of observed) if (!series.has(dsn)) series.set(dsn, plain.series(dsn));
  for (const [dsn, seconds] of observed) {
    histogram.labels(dsn).observe(seconds);
    series.get(dsn)!.observe(seconds);
  }
  return [await reference.metrics(), await counted.metrics()];
}

t.test('renders exactly what prom-client renders for its own Histogram', async (t) => {
  const [reference, counted] = await bothRendered(OBSERVED);
  t.match(counted, /tokenshim_upstream_duration_seconds_bucket\{le="0.005",dsn="crm"\} 2\n/);
  t.equal(counted, reference);
});

t.test('a series appears once observed, in the order of first observations', async (t) => {
  const [reference, counted] = await bothRendered([
    ['erp', 1],
    ['crm', 2],
  ]);
  t.equal(counted, reference);
  t.ok(counted.indexOf('dsn="erp"') < counted.indexOf('dsn="crm"'));

  const registry = new Registry();
  const idle = new CountedHistogram({
    name: 'h',
    help: 'h',
    labelName: 'dsn',
    buckets: [1],
    registry,
  });
  idle.series('never');
  t.equal(
    await registry.metrics(),
    '# HELP h h\n# TYPE h histogram\n',
    'no sample without an observation',
  );
});
