import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Peak resident memory of one process over a stretch of the bench. Linux keeps the process's
 * high-water mark (VmHWM) and lets its owner reset it (`echo 5 > /proc/PID/clear_refs`), which
 * catches peaks shorter than any polling interval; where the reset is refused, the peak of
 * VmRSS sampled every `intervalMs` stands in.
 */
export class RssSampler {
  #peakBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #hwmReset = false;

  constructor(
    readonly pid: number,
    readonly intervalMs = 20,
  ) {}

  start(): this {
    this.#peakBytes = 0;
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      this.#hwmReset = true;
    } catch {
      this.#hwmReset = false;
    }
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.intervalMs);
    return this;
  }

  /** the peak since start(), in bytes */
  stop(): number {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sample();
    return this.#peakBytes;
  }

  /** the peak so far, without stopping */
  get peakBytes(): number {
    return this.#peakBytes;
  }

  #sample(): void {
    const status = readStatus(this.pid);
    if (!status) return;
    const rss = status.get('VmRSS') ?? 0;
    const hwm = this.#hwmReset ? (status.get('VmHWM') ?? 0) : 0;
    this.#peakBytes = Math.max(this.#peakBytes, rss, hwm);
  }
}

/** /proc/PID/status memory lines in bytes; undefined once the process is gone */
function readStatus(pid: number): Map<string, number> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(Vm\w+):\s+(\d+) kB/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]) * 1024);
  }
  return out;
}
