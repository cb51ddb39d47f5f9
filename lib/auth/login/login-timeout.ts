import type { Clock, ClockTimer } from '../../clock.js';
import { CODES, LoginError } from '../../errors.js';

/**
 * `wait`, unless `timeoutMs` passes first on `clock`: then a LOGIN_TIMEOUT error saying `what`
 * did not happen and how to try again. The timer is gone either way.
 */
export async function withLoginTimeout<T>(
  wait: Promise<T>,
  opts: { dsn: string; clock: Clock; timeoutMs: number; what: string; retry: string },
): Promise<T> {
  let timer: ClockTimer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = opts.clock.setTimeout(
      () =>
        reject(
          new LoginError(
            opts.dsn,
            `${opts.what} within ${Math.round(opts.timeoutMs / 1000)} s. ${opts.retry}`,
            { code: CODES.LOGIN_TIMEOUT },
          ),
        ),
      opts.timeoutMs,
    );
  });
  try {
    return await Promise.race([wait, timeout]);
  } finally {
    opts.clock.clearTimeout(timer as ClockTimer);
  }
}

/** `45 s`, `15 min`: how long, as a person reads it. */
export function describeSeconds(seconds: number): string {
  return seconds >= 120 && seconds % 60 === 0 ? `${seconds / 60} min` : `${Math.round(seconds)} s`;
}
