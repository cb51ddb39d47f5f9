import type { Histogram, Registry } from 'prom-client';

/** One label value's observations, in plain numbers: counting one is a few array writes. */
export class HistogramCounts {
  /** observations at or below each upper bound (not cumulative), same order as the bounds */
  readonly #perBucket: Float64Array;
  readonly #bounds: readonly number[];
  readonly #onFirst: () => void;
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[], onFirst: () => void) {
    this.#bounds = bounds;
    this.#perBucket = new Float64Array(bounds.length);
    this.#onFirst = onFirst;
  }

  observe(value: number): void {
    if (this.#count === 0) this.#onFirst();
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.#perBucket[i]!++;
        break;
      }
    }
    // prom-client adds in the order observed: the same order gives the same float sum
    this.#sum += value;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  get sum(): number {
    return this.#sum;
  }

  bucket(i: number): number {
    return this.#perBucket[i]!;
  }
}

/** The value list prom-client's Registry renders: the same shape its own Histogram produces. */
interface HistogramValue {
  readonly labels: Record<string, string | number>;
  readonly sharedLabels: Record<string, string>;
  readonly value: number;
  readonly metricName: string;
}

export interface CountedHistogramConfig {
  readonly name: string;
  readonly help: string;
  /** the one label the series are split by (`dsn`) */
  readonly labelName: string;
  readonly buckets: readonly number[];
  readonly registry: Registry;
}

/**
 * A Prometheus histogram with one label whose observations are counted in plain numbers
 * (HistogramCounts) and handed to prom-client's Registry only when it renders. A prom-client
 * Histogram hashes its label object on every observe(), bound children included (a string built
 * and a map probe per call): measurable at proxy rates. The Registry formats this object's
 * values exactly as it formats a Histogram's (test/metrics/counted-histogram.test.ts compares the
 * two texts), series in the order they were first observed, as prom-client's own.
 */
export class CountedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #labelName: string;
  readonly #bounds: readonly number[];
  /** label value -> counts, in the order each was first observed */
  readonly #series = new Map<string, HistogramCounts>();

  constructor(config: CountedHistogramConfig) {
    this.name = config.name;
    this.help = config.help;
    this.#labelName = config.labelName;
    this.#bounds = Object.freeze([...config.buckets].sort((a, b) => a - b));
    // the Registry reads get() (and a `name`); it takes any object that renders like a metric
    config.registry.registerMetric(this as unknown as Histogram);
  }

  /**
   * The counts for one label value. A series is rendered once it has an observation (as
   * prom-client renders a labelled Histogram), in the order of first observations.
   */
  series(labelValue: string): HistogramCounts {
    const counts: HistogramCounts = new HistogramCounts(this.#bounds, () =>
      this.#series.set(labelValue, counts),
    );
    return counts;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: HistogramValue[];
  }> {
    const values: HistogramValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const [labelValue, counts] of this.#series) {
      const shared = { [this.#labelName]: labelValue };
      let cumulative = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += counts.bucket(i);
        values.push({
          labels: { le: this.#bounds[i]! },
          sharedLabels: shared,
          value: cumulative,
          metricName: bucketName,
        });
      }
      values.push(
        {
          labels: { le: '+Inf' },
          sharedLabels: shared,
          value: counts.count,
          metricName: bucketName,
        },
        { labels: {}, sharedLabels: shared, value: counts.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: shared, value: counts.count, metricName: `${this.name}_count` },
      );
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }
}
