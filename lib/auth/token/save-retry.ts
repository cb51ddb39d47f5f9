/**
 * A rotated refresh token whose save failed is saved again until it works: after 1 s, 2 s,
 * 4 s... then every TOKEN_TIMING.owedSaveMaxRetryMs. One timer at most; the attempt itself
 * (token-source.ts saveOwed) runs under the refresh lock.
 */
import type { Clock, ClockTimer } from '../../clock.js';
import { TOKEN_TIMING } from './token-timing.js';

export class SaveRetry {
  readonly #clock: Clock;
  /** resolves true once nothing is owed any more */
  readonly #attempt: () => Promise<boolean>;
  #timer: ClockTimer | undefined;
  #failures = 0;
  #stopped = false;

  constructor(clock: Clock, attempt: () => Promise<boolean>) {
    this.#clock = clock;
    this.#attempt = attempt;
  }

  /** Schedules the next attempt, unless one is scheduled already. */
  start(): void {
    if (this.#stopped || this.#timer) return;
    const delay = Math.min(
      TOKEN_TIMING.owedSaveFirstRetryMs * 2 ** this.#failures,
      TOKEN_TIMING.owedSaveMaxRetryMs,
    );
    const timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#attempt()
        .catch(() => false)
        .then((saved) => {
          if (saved) {
            this.#failures = 0;
            return;
          }
          this.#failures++;
          this.start();
        });
    }, delay);
    timer.unref?.();
    this.#timer = timer;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
