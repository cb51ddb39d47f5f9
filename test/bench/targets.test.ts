import t from 'tap';
import { judgeTargets } from '../../bench/report/targets.js';
import type { MemoryResult, StreamResult } from '../../bench/results-model.js';

const heap = { heapTotalBytes: 0, externalBytes: 0, arrayBuffersBytes: 0 };
const stream: StreamResult = { bytes: 1, transferred: 1, seconds: 1, peakRssBytes: 1, heap };
const memory = (loadedMb: number, idleMb: number): MemoryResult => ({
  throughputRoundsPeakRssBytes: loadedMb * 1e6,
  idle: { requested: 1000, opened: 1000, peakRssBytes: idleMb * 1e6, heap },
  download: stream,
  upload: stream,
});
const row = (targets: ReturnType<typeof judgeTargets>, start: string) =>
  targets.find((x) => x.name.startsWith(start));

t.test('peak RSS under full load is judged against 150 MB, idle against 80 MB', async (t) => {
  const met = judgeTargets([], undefined, memory(149.9, 79.9));
  t.match(row(met, 'peak RSS under full load'), { measured: '149.9 MB', met: true });
  t.match(row(met, 'peak RSS, 1,000 idle'), { measured: '79.9 MB', met: true });
  const missed = judgeTargets([], undefined, memory(150, 80));
  t.equal(row(missed, 'peak RSS under full load')?.met, false);
  t.equal(row(missed, 'peak RSS, 1,000 idle')?.met, false);
  const none = judgeTargets([], undefined, undefined);
  t.match(row(none, 'peak RSS under full load'), { measured: 'not measured', met: undefined });
});

t.test('small GET throughput is judged against 0.55x one nginx worker', async (t) => {
  const contestant = (name: 'tokenshim' | 'nginx', rps: number) =>
    ({ name, workloads: { smallGet: { requestsPerSecond: rps } } }) as unknown as Parameters<
      typeof judgeTargets
    >[0][number];
  const judged = (rps: number) =>
    row(
      judgeTargets([contestant('tokenshim', rps), contestant('nginx', 1000)], undefined, undefined),
      'small GET throughput >= 0.55x',
    );
  t.match(judged(550), { measured: '0.55x', met: true });
  t.match(judged(549), { met: false });
});
