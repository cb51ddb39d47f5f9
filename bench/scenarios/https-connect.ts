import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcesses, NodeChild } from '../child-processes.js';
import { benchDsnSection, startTokenshimProcess } from '../contestants/tokenshim.js';
import type { LoadGenerator, LoadResult } from '../load/load-generator.js';
import { createDirectHttpsLoad } from '../load/undici-https.js';
import type { HttpsConnectResult, Settings } from '../results-model.js';
import type { UpstreamReady, UpstreamStats } from '../upstream-process.js';
import { countsBetween } from '../upstream/token-ledger.js';
import { UPSTREAM_PATHS } from '../upstream/upstream-server.js';
import { median } from './throughput.js';

/**
 * HTTPS through CONNECT: a client with HTTPS_PROXY=tokenshim asks for
 * https://localhost:<port>/small; tokenshim terminates TLS with a leaf from its local CA, attaches
 * the token and re-encrypts to the upstream. Against the same client going straight to the
 * upstream over HTTPS, rounds interleaved. Both clients run in the bench process (wrk cannot
 * speak through a CONNECT proxy), so their numbers compare with each other, not with the wrk rows.
 */
export async function runHttpsConnect(
  children: ChildProcesses,
  upstream: NodeChild<UpstreamReady>,
  authorization: string,
  workDir: string,
  settings: Settings,
  progress: (line: string) => void,
): Promise<HttpsConnectResult> {
  const { initLocalCa } = await import('../../lib/tls/ca-store.js');
  const { createHttpsConnectLoad } = await import('../../test/tls/https-connect-load.js');
  const u = upstream.ready;
  const dir = mkdtempSync(join(workDir, 'connect-'));
  const home = join(dir, 'home');
  const { ca } = await initLocalCa(join(home, 'ca'));
  const trustStore = join(dir, 'upstream-ca.pem');
  writeFileSync(trustStore, u.httpsCaPem);
  const tokenshim = await startTokenshimProcess(
    children,
    dir,
    [benchDsnSection('secure', u.steadyTokenEndpoint, u, { trustStore })],
    undefined,
    { ...process.env, TOKENSHIM_HOME: home },
  );
  try {
    const url = `https://localhost:${u.httpsPort}${UPSTREAM_PATHS.small}`;
    const through: LoadGenerator = createHttpsConnectLoad({
      proxyUrl: tokenshim.ready.url,
      caPem: ca.certificatePem,
    });
    const direct = createDirectHttpsLoad(u.httpsCaPem);
    // every tunnel starts with a CONNECT and two TLS handshakes: in a one-second quick round, 50 of
    // them would measure nothing but handshakes
    const connections = settings.quick ? 4 : settings.connections;
    const spec = { url, connections, durationSeconds: settings.roundSeconds };
    const directRounds: LoadResult[] = [];
    const connectRounds: LoadResult[] = [];
    if (!settings.quick) {
      await direct.run({ ...spec, headers: { Authorization: authorization } });
      await through.run(spec);
    }
    const before = await upstream.request<UpstreamStats>('stats');
    for (let round = 1; round <= settings.rounds; round++) {
      directRounds.push(await direct.run({ ...spec, headers: { Authorization: authorization } }));
      const beforeConnect = await upstream.request<UpstreamStats>('stats');
      connectRounds.push(await through.run(spec));
      const afterConnect = await upstream.request<UpstreamStats>('stats');
      const last = connectRounds.at(-1)!;
      progress(
        `round ${round}/${settings.rounds} HTTPS via CONNECT ${last.requestsPerSecond.toFixed(0)} req/s ` +
          `(direct HTTPS ${directRounds.at(-1)!.requestsPerSecond.toFixed(0)}), ` +
          `${countsBetween(beforeConnect.tokens, afterConnect.tokens).ok} reached the upstream with a valid token`,
      );
    }
    const after = await upstream.request<UpstreamStats>('stats');
    const summary = (rounds: LoadResult[]) => ({
      requestsPerSecond: median(rounds.map((r) => r.requestsPerSecond)),
      p50Us: median(rounds.map((r) => r.latencyUs.p50)),
      p99Us: median(rounds.map((r) => r.latencyUs.p99)),
      non2xx: rounds.reduce((s, r) => s + r.non2xx, 0),
      socketErrors: rounds.reduce((s, r) => s + r.socketErrors, 0),
    });
    return {
      loadGenerator: through.name,
      direct: summary(directRounds),
      connect: summary(connectRounds),
      upstreamTokens: countsBetween(before.tokens, after.tokens),
    };
  } finally {
    await tokenshim.close();
  }
}
