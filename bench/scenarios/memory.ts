import { setTimeout as sleep } from 'node:timers/promises';
import type { MemoryResult, Settings, StreamResult } from '../results-model.js';
import { RssSampler } from '../rss-sampler.js';
import { UPSTREAM_PATHS } from '../upstream/upstream-server.js';
import { download, openIdleConnections, upload } from './memory-load.js';

/**
 * tokenshim's peak RSS while it holds many idle keep-alive connections, and while a large body
 * streams through it each way (the bytes are generated on the fly at both ends, so only a proxy
 * that buffers would grow).
 */
export async function runMemoryScenarios(
  tokenshimPid: number,
  /** `http://127.0.0.1:<port>/bench` */
  gatewayUrl: string,
  settings: Settings,
  throughputRoundsPeakRssBytes: number,
  progress: (line: string) => void,
): Promise<MemoryResult> {
  const url = new URL(gatewayUrl);

  let sampler = new RssSampler(tokenshimPid).start();
  const idle = await openIdleConnections(
    Number(url.port),
    `${url.pathname}${UPSTREAM_PATHS.small}`,
    settings.idleConnections,
  );
  // let the proxy settle with every connection idle (and any per-connection timers armed)
  await sleep(1_000);
  const idlePeak = sampler.stop();
  idle.close();
  progress(`memory: ${idle.opened} idle connections, peak RSS ${(idlePeak / 1e6).toFixed(1)} MB`);
  await sleep(500);

  sampler = new RssSampler(tokenshimPid).start();
  const down = await timed(async () => {
    const r = await download(`${gatewayUrl}${UPSTREAM_PATHS.stream}?bytes=${settings.streamBytes}`);
    if (r.status !== 200) throw new Error(`status ${r.status}`);
    return r.bytes;
  });
  const downloadResult: StreamResult = {
    bytes: settings.streamBytes,
    ...down,
    peakRssBytes: sampler.stop(),
  };
  progress(`memory: download peak RSS ${(downloadResult.peakRssBytes / 1e6).toFixed(1)} MB`);

  sampler = new RssSampler(tokenshimPid).start();
  const up = await timed(async () => {
    const r = await upload(`${gatewayUrl}${UPSTREAM_PATHS.upload}`, settings.streamBytes);
    if (r.status !== 200) throw new Error(`status ${r.status}: ${r.body.slice(0, 200)}`);
    return (JSON.parse(r.body) as { received: number }).received;
  });
  const uploadResult: StreamResult = {
    bytes: settings.streamBytes,
    ...up,
    peakRssBytes: sampler.stop(),
  };
  progress(`memory: upload peak RSS ${(uploadResult.peakRssBytes / 1e6).toFixed(1)} MB`);

  return {
    throughputRoundsPeakRssBytes,
    idle: { requested: settings.idleConnections, opened: idle.opened, peakRssBytes: idlePeak },
    download: downloadResult,
    upload: uploadResult,
  };
}

async function timed(
  fn: () => Promise<number>,
): Promise<{ transferred: number; seconds: number; error?: string }> {
  const start = process.hrtime.bigint();
  const seconds = (): number => Number(process.hrtime.bigint() - start) / 1e9;
  try {
    const transferred = await fn();
    return { transferred, seconds: seconds() };
  } catch (e) {
    return { transferred: 0, seconds: seconds(), error: (e as Error).message };
  }
}
