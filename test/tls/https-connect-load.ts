import { ProxyAgent } from 'undici';
import type { LoadGenerator, LoadResult, LoadSpec } from '../../bench/load/load-generator.js';
import { runUndiciLoad } from '../../bench/load/undici-https.js';
import { LocalCa } from '../../lib/tls/local-ca.js';

/**
 * For the benchmark's HTTPS-through-CONNECT row. wrk and autocannon cannot send through
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

export function runHttpsThroughConnect(
  spec: LoadSpec & { proxyUrl: string; caPem: string },
): Promise<LoadResult> {
  const agent = new ProxyAgent({
    uri: spec.proxyUrl,
    requestTls: { ca: spec.caPem },
    connections: spec.connections,
  });
  return runUndiciLoad(agent, spec);
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
