/**
 * Prometheus text exposition parsed by parse-prometheus-text-format (which ships no types): tests
 * assert on parsed samples, so a malformed exposition fails them instead of passing a grep.
 */
export interface Sample {
  readonly labels?: Record<string, string>;
  readonly value?: string;
  readonly buckets?: Record<string, string>;
  readonly count?: string;
  readonly sum?: string;
}
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  readonly metrics: readonly Sample[];
}

const parser = (await import('parse-prometheus-text-format' as string)) as {
  default: (text: string) => MetricFamily[];
};

export function parseExposition(text: string): Map<string, MetricFamily> {
  return new Map(parser.default(text).map((f) => [f.name, f]));
}

/** The sample of `family` whose labels include all of `labels`. */
export function sample(
  families: Map<string, MetricFamily>,
  family: string,
  labels: Record<string, string> = {},
): Sample | undefined {
  return families
    .get(family)
    ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

/**
 * The sample lines named exactly `name`, with their labels. parse-prometheus-text-format folds a
 * labelled histogram's series into one, so histogram buckets are read with this instead.
 */
export function rawSamples(
  text: string,
  name: string,
): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = l[2] as string;
    }
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}
