/**
 * One token fetch as its callers see it. A token endpoint that has not answered within
 * HeadersTimeout has probably still rotated the refresh token by the time it answers: that answer
 * holds the only valid refresh token, so it is still read and saved for a grace time. Callers are
 * not kept waiting that long: they get an error at HeadersTimeout, while the fetch goes on (and
 * keeps the single flight, so the spent refresh token is not redeemed a second time meanwhile).
 */
import type { Clock, ClockTimer } from '../../clock.js';
import { TokenEndpointError, TokenUnavailableError, type TokenshimError } from '../../errors.js';
import type { AccessToken } from './access-token.js';
import type { AnswerWait } from './token-request.js';

export interface InFlightFetch {
  /** the fetch itself, which goes on past the callers' deadline for the grace time */
  readonly fetch: Promise<AccessToken>;
  /** what callers wait for: the fetch, or the overdue error at the deadline, whichever is first */
  readonly answer: Promise<AccessToken>;
  /** Stops waiting for a late answer now (closing: nobody is left to use it). */
  abandon(): void;
}

export interface DeadlineOptions {
  readonly clock: Clock;
  /** named in the errors */
  readonly dsn: string;
  /** how long callers wait (HeadersTimeout) */
  readonly answerMs: number;
  /** how much longer the answer is still read and saved */
  readonly graceMs: number;
  /** at the callers' deadline, with what they are told (the manager records it as the failure) */
  readonly onOverdue: (error: TokenshimError) => void;
}

/**
 * Starts `run` with the abort signal and timeout of the grace time; cuts callers off answerMs
 * after the token request was sent (waiting for the refresh lock has limits of its own).
 */
export function startWithDeadline(
  run: (wait: AnswerWait) => Promise<AccessToken>,
  opts: DeadlineOptions,
): InFlightFetch {
  const { clock } = opts;
  const abort = new AbortController();
  const timers: ClockTimer[] = [];
  let settled = false;
  const settle = (): void => {
    settled = true;
    for (const t of timers) clock.clearTimeout(t);
  };
  let giveUp!: (e: TokenshimError) => void;
  const deadline = new Promise<never>((_, reject) => (giveUp = reject));
  const abandon = (waitedMs: number): void => {
    if (settled) return;
    abort.abort(
      new TokenEndpointError(
        `DSN "${opts.dsn}": the token endpoint did not answer within ${seconds(waitedMs)} s. ` +
          'Check TokenURI and the network.',
        { dsn: opts.dsn },
      ),
    );
  };
  const onSent = (): void => {
    if (settled) return;
    const overdue = (): void => {
      const error = new TokenUnavailableError(
        opts.dsn,
        `the token endpoint has not answered within ${seconds(opts.answerMs)} s (HeadersTimeout); ` +
          `its answer is still read and saved if it comes within ${seconds(opts.graceMs)} s more`,
      );
      opts.onOverdue(error);
      giveUp(error);
      const waited = opts.answerMs + opts.graceMs;
      timers.push(unref(clock.setTimeout(() => abandon(waited), opts.graceMs)));
    };
    timers.push(unref(clock.setTimeout(overdue, opts.answerMs)));
  };
  const fetch = run({ signal: abort.signal, timeoutMs: opts.answerMs + opts.graceMs, onSent });
  fetch.then(settle, settle);
  return {
    fetch,
    answer: Promise.race([fetch, deadline]),
    abandon: () => abandon(opts.answerMs),
  };
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}

function unref(timer: ClockTimer): ClockTimer {
  timer.unref?.();
  return timer;
}
