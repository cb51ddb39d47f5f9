import { ProxyAgent, request } from 'undici';
import type { LoadGenerator, LoadResult, LoadSpec } from '../../bench/load/load-generator.js';
import { LocalCa } from '../../lib/tls/local-ca.js';

/**
 * For the benchmark's HTTPS-through-CONNECT row (issue 9). wrk and autocannon cannot send through
 * a CONNECT proxy, so this generator does, with undici's ProxyAgent: `spec.connections` keep-alive
 * tunnels, each a loop of requests to `spec.url` (an https URL of the upstream) for
 * `spec.durationSeconds`. Each tunnel is one CONNECT and one TLS handshake with tokenshim's leaf;
 * the requests after that measure the decrypt, attach, re-encrypt path.
 */
export function createHttpsConnectLoad(opts: {
  /** tokenshim's address, `http://127.0.0.1:8790` */
  proxyUrl: string;
  /** tokenshim's CA certificate (PEM), which the client must trust */
  caPem: string;
}): LoadGenerator {
  return {
    name: 'undici ProxyAgent (HTTPS through CONNECT)',
    run: (spec) => runHttpsThroughConnect({ ...opts, ...spec }),
    close: async () => undefined,
  };
}

export async function runHttpsThroughConnect(
  spec: LoadSpec & { proxyUrl: string; caPem: string },
): Promise<LoadResult> {
  const agent = new ProxyAgent({
    uri: spec.proxyUrl,
    requestTls: { ca: spec.caPem },
    connections: spec.connections,
  });
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
          dispatcher: agent,
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
    await agent.close();
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

/**
 * A certificate for the bench's upstream when it serves HTTPS (`https.createServer({ cert, key },
 * handler)`), signed by a CA of its own: tokenshim verifies it with `TrustStore=<caPem in a file>`.
 */
export async function createUpstreamTlsIdentity(
  host = 'localhost',
): Promise<{ caPem: string; certificatePem: string; keyPem: string }> {
  const { ca } = await LocalCa.create({ commonName: 'bench upstream CA' });
  const leaf = await ca.issueLeaf(host);
  return { caPem: ca.certificatePem, certificatePem: leaf.certificatePem, keyPem: leaf.keyPem };
}
