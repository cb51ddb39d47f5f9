import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time a process (and its live children: nginx's worker) has used, in microseconds. On a
 * shared machine requests per second drift with whatever else runs, but the CPU a proxy spends per
 * request hardly does, so the bench reports both.
 */
export function cpuTimeUs(pid: number): number | undefined {
  const t = cpuTimesUs(pid);
  return t === undefined ? undefined : t.userUs + t.systemUs;
}

export interface CpuTimes {
  /** user time: the process's own code (JavaScript, V8, node's C++) */
  readonly userUs: number;
  /** system time: the kernel on its behalf, loopback TCP included */
  readonly systemUs: number;
}

/** cpuTimeUs split into user and system time. */
export function cpuTimesUs(pid: number): CpuTimes | undefined {
  const own = ownCpuTicks(pid);
  if (own === undefined) return undefined;
  let [user, system] = own;
  for (const child of childPids(pid)) {
    const [u, s] = ownCpuTicks(child) ?? [0, 0];
    user += u;
    system += s;
  }
  const us = 1e6 / clockTicksPerSecond();
  return { userUs: user * us, systemUs: system * us };
}

let ticksPerSecond: number | undefined;

function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond =
        Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime and stime from /proc/PID/stat (fields 14 and 15, counted after the parenthesised name) */
function ownCpuTicks(pid: number): [number, number] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15
  return [Number(fields[11]), Number(fields[12])];
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
