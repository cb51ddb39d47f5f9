import { Agent, request, type Dispatcher } from 'undici';
import type { LoadGenerator, LoadResult, LoadSpec } from './load-generator.js';

/**
 * HTTPS straight to the upstream with undici, `spec.connections` keep-alive loops: the reference
 * for the HTTPS-through-CONNECT row, made the same way as its generator
 * (test/tls/https-connect-load.ts) so the two differ only by the proxy in between.
 */
export function createDirectHttpsLoad(caPem: string): LoadGenerator {
  return {
    name: 'undici Agent (HTTPS direct)',
    run: (spec) =>
      runUndiciLoad(new Agent({ connect: { ca: caPem }, connections: spec.connections }), spec),
    async close() {},
  };
}

/**
 * `spec.connections` request loops through `dispatcher` for `spec.durationSeconds` (a POST of
 * `spec.postBytes` when set), then closes it: the one loop behind both HTTPS rows, so they differ
 * only by the dispatcher (direct Agent, or a ProxyAgent through tokenshim's CONNECT).
 */
export async function runUndiciLoad(dispatcher: Dispatcher, spec: LoadSpec): Promise<LoadResult> {
  const body = spec.postBytes ? Buffer.alloc(spec.postBytes, 'p') : undefined;
  const latenciesUs: number[] = [];
  let non2xx = 0;
  let socketErrors = 0;
  const started = performance.now();
  const deadline = started + spec.durationSeconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        const answer = await request(spec.url, {
          dispatcher,
          method: body ? 'POST' : 'GET',
          headers: {
            ...(body ? { 'content-type': 'application/octet-stream' } : {}),
            ...spec.headers,
          },
          ...(body ? { body } : {}),
        });
        await answer.body.dump({ limit: Number.MAX_SAFE_INTEGER });
        if (answer.statusCode >= 400) non2xx += 1;
        latenciesUs.push(Math.round((performance.now() - sent) * 1000));
      } catch {
        socketErrors += 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.connections }, loop));
  } finally {
    await dispatcher.close();
  }
  const durationSeconds = (performance.now() - started) / 1000;
  latenciesUs.sort((a, b) => a - b);
  const at = (q: number): number =>
    latenciesUs[Math.min(latenciesUs.length - 1, Math.floor(q * latenciesUs.length))] ?? 0;
  return {
    requests: latenciesUs.length,
    durationSeconds,
    requestsPerSecond: latenciesUs.length / durationSeconds,
    latencyUs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latenciesUs.at(-1) ?? 0 },
    non2xx,
    socketErrors,
  };
}
