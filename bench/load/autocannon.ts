import { createRequire } from 'node:module';
import autocannon from 'autocannon';
import type { LoadGenerator, LoadResult, LoadSpec } from './load-generator.js';

/**
 * The fallback when wrk is not installed. It runs in the bench's own process (which is otherwise
 * idle during a run), so its numbers are lower than wrk's; ratios between contestants still hold
 * because every contestant gets the same generator.
 */
export function createAutocannon(): LoadGenerator {
  const version = (createRequire(import.meta.url)('autocannon/package.json') as { version: string })
    .version;
  return {
    name: `autocannon ${version}`,
    async run(spec: LoadSpec): Promise<LoadResult> {
      const body = spec.postBytes ? Buffer.alloc(spec.postBytes, 'p') : undefined;
      const result = await autocannon({
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSeconds,
        method: body ? 'POST' : 'GET',
        ...(body ? { body } : {}),
        headers: {
          ...(body ? { 'content-type': 'application/octet-stream' } : {}),
          ...spec.headers,
        },
        timeout: 10,
      });
      // autocannon records latency in milliseconds
      const us = (ms: number): number => Math.round(ms * 1000);
      return {
        requests: result.requests.total,
        durationSeconds: result.duration,
        requestsPerSecond: result.requests.total / result.duration,
        latencyUs: {
          p50: us(result.latency.p50),
          p90: us(result.latency.p90),
          p99: us(result.latency.p99),
          max: us(result.latency.max),
        },
        non2xx: result.non2xx,
        socketErrors: result.errors + result.timeouts,
      };
    },
    async close() {},
  };
}
