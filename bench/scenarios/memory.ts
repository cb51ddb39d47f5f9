import { setTimeout as sleep } from 'node:timers/promises';
import type { HeapAtEnd, MemoryResult, Settings } from '../results-model.js';
import { RssSampler } from '../rss-sampler.js';
import { UPSTREAM_PATHS } from '../upstream/upstream-server.js';
import { download, openIdleConnections, upload } from './memory-load.js';

/** A fresh tokenshim process, so each scenario's peak is its own and not the rounds' leftovers. */
export interface FreshTokenshim {
  readonly pid: number;
  /** `http://127.0.0.1:<port>/bench` */
  readonly gatewayUrl: string;
  /** the process's own view (heap, external, array buffers), taken at the end of a scenario */
  memoryUsage(): Promise<NodeJS.MemoryUsage>;
  close(): Promise<void>;
}

/**
 * tokenshim's peak RSS while it holds many idle keep-alive connections, and while a large body
 * streams through it each way (the bytes are generated on the fly at both ends, so only a proxy
 * that buffers would grow). Each scenario gets a new tokenshim process that has made one request
 * (so its token is fetched and its upstream connection open).
 */
export async function runMemoryScenarios(
  startTokenshim: () => Promise<FreshTokenshim>,
  settings: Settings,
  throughputRoundsPeakRssBytes: number,
  progress: (line: string) => void,
): Promise<MemoryResult> {
  const scenario = async <T>(
    fn: (t: FreshTokenshim) => Promise<T>,
  ): Promise<T & { heap: HeapAtEnd }> => {
    const t = await startTokenshim();
    try {
      const first = await download(`${t.gatewayUrl}${UPSTREAM_PATHS.small}`);
      if (first.status !== 200) throw new Error(`tokenshim answered ${first.status}`);
      const result = await fn(t);
      const m = await t.memoryUsage();
      return {
        ...result,
        heap: {
          heapTotalBytes: m.heapTotal,
          externalBytes: m.external,
          arrayBuffersBytes: m.arrayBuffers,
        },
      };
    } finally {
      await t.close();
    }
  };

  const idle = await scenario(async (t) => {
    const url = new URL(t.gatewayUrl);
    const sampler = new RssSampler(t.pid).start();
    const open = await openIdleConnections(
      Number(url.port),
      `${url.pathname}${UPSTREAM_PATHS.small}`,
      settings.idleConnections,
    );
    // let the proxy settle with every connection idle (and any per-connection timers armed)
    await sleep(1_000);
    const peakRssBytes = sampler.stop();
    const opened = open.opened;
    open.close();
    return { opened, peakRssBytes };
  });
  progress(
    `memory: ${idle.opened} idle connections, peak RSS ${(idle.peakRssBytes / 1e6).toFixed(1)} MB`,
  );

  const downloadResult = await scenario(async (t) => {
    const sampler = new RssSampler(t.pid).start();
    const r = await timed(async () => {
      const d = await download(
        `${t.gatewayUrl}${UPSTREAM_PATHS.stream}?bytes=${settings.streamBytes}`,
      );
      if (d.status !== 200) throw new Error(`status ${d.status}`);
      return d.bytes;
    });
    return { bytes: settings.streamBytes, ...r, peakRssBytes: sampler.stop() };
  });
  progress(`memory: download peak RSS ${(downloadResult.peakRssBytes / 1e6).toFixed(1)} MB`);

  const uploadResult = await scenario(async (t) => {
    const sampler = new RssSampler(t.pid).start();
    const r = await timed(async () => {
      const u = await upload(`${t.gatewayUrl}${UPSTREAM_PATHS.upload}`, settings.streamBytes);
      if (u.status !== 200) throw new Error(`status ${u.status}: ${u.body.slice(0, 200)}`);
      return (JSON.parse(u.body) as { received: number }).received;
    });
    return { bytes: settings.streamBytes, ...r, peakRssBytes: sampler.stop() };
  });
  progress(`memory: upload peak RSS ${(uploadResult.peakRssBytes / 1e6).toFixed(1)} MB`);

  return {
    throughputRoundsPeakRssBytes,
    idle: { requested: settings.idleConnections, ...idle },
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
