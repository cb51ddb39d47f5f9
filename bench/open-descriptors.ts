import { readdirSync } from 'node:fs';

/** Open file descriptors (sockets included) of a process; undefined where /proc does not show them. */
export function openDescriptors(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/**
 * Counts each process's descriptors now, and later names the ones holding more than `allowance`
 * extra. A proxy that leaves an upstream response open when its client hangs up mid-body (every
 * load generator does at the end of a round) keeps one more busy connection per such request; its
 * pool then scans past all of them on each later request, and its CPU per request stops being its
 * own: the undici floor once measured 1.4x its cost this way. A keep-alive pool that opens more
 * connections than the load needs and keeps them idle (http-proxy's node Agent keeps up to 256)
 * grows too; the note cannot tell the two apart.
 */
export function watchDescriptors(
  processes: readonly { readonly name: string; readonly pid?: number }[],
  allowance: number,
): () => string[] {
  const before = processes.map((p) => ({
    name: p.name,
    pid: p.pid,
    count: p.pid === undefined ? undefined : openDescriptors(p.pid),
  }));
  return () =>
    before.flatMap(({ name, pid, count }) => {
      if (pid === undefined || count === undefined) return [];
      const now = openDescriptors(pid);
      if (now === undefined || now - count <= allowance) return [];
      return [
        `${name} held ${now - count} more open descriptors after the throughput rounds than before ` +
          `(${count} -> ${now}), more than the ${allowance} its pools may add: upstream requests ` +
          'its clients abandoned, still open (which makes its later requests dearer), or an idle ' +
          'pool that keeps growing.',
      ];
    });
}
