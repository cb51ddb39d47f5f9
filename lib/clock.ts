/**
 * Time as an injected dependency: token-expiry tests move a fake clock instead of sleeping.
 */
export interface Clock {
  /** milliseconds since the epoch */
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

export interface ClockTimer {
  unref?(): unknown;
}

/**
 * The longest delay a timer can take: Node (like browsers) keeps delays in a signed 32-bit int and
 * turns anything longer into 1 ms, so a token living 25 days or more would be refreshed in a 1 ms
 * loop. Longer waits fire at this bound; whoever set the timer checks the time and waits again.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): ClockTimer => {
    const t = setTimeout(fn, Math.min(ms, MAX_TIMER_MS));
    t.unref();
    return t;
  },
  clearTimeout: (timer: ClockTimer) => clearTimeout(timer as NodeJS.Timeout),
});

/** A clock that only moves when told to; timers fire during `advance`. */
export class FakeClock implements Clock {
  #now: number;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #nextId = 1;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const id = this.#nextId++;
    // as the platform does it: a longer wait fires at the bound
    this.#timers.set(id, { at: this.#now + Math.min(Math.max(0, ms), MAX_TIMER_MS), fn });
    return { id } as ClockTimer;
  }

  clearTimeout(timer: ClockTimer): void {
    this.#timers.delete((timer as { id: number }).id);
  }

  /** timers still waiting */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward, firing due timers in order (and timers they schedule, if due). */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= until && (!due || entry[1].at < due[1].at)) due = entry;
      }
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = Math.max(this.#now, due[1].at);
      due[1].fn();
    }
    this.#now = until;
  }
}
