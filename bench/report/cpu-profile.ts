import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { ProfileEntry } from '../results-model.js';

/** The parts of a V8 .cpuprofile (what `node --cpu-prof` writes) that self time needs. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Functions by self time (samples whose top frame is the function), merged across call sites, as a
 * share of the time the process was busy: the profile spans the whole bench, when tokenshim waits
 * while the other contestants run, so `(idle)` is left out. GC and `(program)` stay in.
 */
export function topSelfTime(file: string, root: string, limit = 20): ProfileEntry[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frameOf = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const selfUs = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = frameOf.get(profile.samples[i]!);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!frame || frame.functionName === '(idle)') continue;
    total += dt;
    const where = frame.url ? `${shorten(frame.url, root)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}@${where}`;
    const entry = selfUs.get(key) ?? { fn: frame.functionName || '(anonymous)', where, us: 0 };
    entry.us += dt;
    selfUs.set(key, entry);
  }
  return [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map((e) => ({
      function: e.fn,
      location: e.where,
      selfMs: e.us / 1000,
      selfPercent: total > 0 ? (100 * e.us) / total : 0,
    }));
}

function shorten(url: string, root: string): string {
  const path = url.startsWith('file://') ? url.slice(7) : url;
  if (path.startsWith(root)) return relative(root, path);
  return path;
}
