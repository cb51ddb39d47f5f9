import { createHash, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../../clock.js';
import { TooManyAttemptsError } from '../../errors.js';

/** Which key a client presented. */
export type KeyKind = 'client_key' | 'admin_key';

/** A key that was missing or wrong, or an attempt refused because its address was throttled. */
export interface KeyRefusedEvent {
  readonly kind: KeyKind;
  /** the DSN whose key it was, when one DSN's key was asked for */
  readonly dsn?: string;
  /** the client's address (socket peer) */
  readonly address: string;
  /** `missing`, `wrong`, or `throttled` (not even compared: too many failures from the address) */
  readonly outcome: 'missing' | 'wrong' | 'throttled';
}

/** Told about every refused key attempt (metrics count them, the log names the address). */
export interface AccessObserver {
  keyRefused(event: KeyRefusedEvent): void;
}

export const KEY_GATE_DEFAULTS = Object.freeze({
  /** failed attempts from one address within failureWindowMs before it is locked out */
  maxFailures: 10,
  failureWindowMs: 60_000,
  /** how long a locked-out address gets 429 without its keys being compared */
  lockoutMs: 60_000,
  /** addresses remembered; the oldest are forgotten first (a flood of addresses cannot grow memory) */
  maxAddresses: 10_000,
});

interface Failures {
  /** failures in the current window */
  count: number;
  windowStart: number;
  /** epoch ms until which the address is refused; 0 when not locked out */
  lockedUntil: number;
  /** the keys the failures were against (`client_key crm`): a right key clears only its own */
  readonly against: Set<string>;
}

/**
 * Checks the keys clients present (ClientKey, AdminKey): in constant time, and with failed
 * attempts counted per client address, so that a key cannot be guessed at the speed of the
 * network. After `maxFailures` wrong or missing keys within `failureWindowMs`, an address gets
 * 429 for `lockoutMs`, its keys not even compared (a right key included: the lockout would mean
 * nothing if a guess could still be told right). A right key ends the count when every failure
 * was against that same key: a client holding one DSN's key cannot use it to keep guessing another's.
 */
export class KeyGate {
  readonly #clock: Clock;
  readonly #limits: typeof KEY_GATE_DEFAULTS;
  readonly #failures: LRUCache<string, Failures>;
  observer: AccessObserver | undefined;

  constructor(
    opts: {
      clock?: Clock;
      observer?: AccessObserver;
      limits?: Partial<typeof KEY_GATE_DEFAULTS>;
    } = {},
  ) {
    this.#clock = opts.clock ?? systemClock;
    this.#limits = { ...KEY_GATE_DEFAULTS, ...opts.limits };
    this.#failures = new LRUCache({ max: this.#limits.maxAddresses });
    this.observer = opts.observer;
  }

  /**
   * Whether `presented` is one of `expected` (any of them: an admin route from another machine
   * takes any DSN's AdminKey): `ok`, `missing`, `wrong`, or the 429 for a locked-out address.
   */
  check(
    attempt: { kind: KeyKind; address: string; dsn?: string; presented: string | undefined },
    expected: readonly string[],
  ): 'ok' | 'missing' | 'wrong' | TooManyAttemptsError {
    const now = this.#clock.now();
    const entry = this.#failures.get(attempt.address);
    if (entry !== undefined && entry.lockedUntil > now) {
      this.#report(attempt, 'throttled');
      return new TooManyAttemptsError(Math.ceil((entry.lockedUntil - now) / 1000));
    }
    const presented = attempt.presented;
    let right = false;
    // every key compared, so the time taken does not say which one matched
    if (presented !== undefined)
      for (const key of expected) right = sameKey(presented, key) || right;
    const against = `${attempt.kind} ${attempt.dsn ?? ''}`;
    if (right) {
      if (entry !== undefined && entry.against.size === 1 && entry.against.has(against)) {
        this.#failures.delete(attempt.address);
      }
      return 'ok';
    }
    const outcome = presented === undefined ? 'missing' : 'wrong';
    this.#fail(attempt.address, entry, now, against);
    this.#report(attempt, outcome);
    return outcome;
  }

  #fail(address: string, entry: Failures | undefined, now: number, against: string): void {
    const limits = this.#limits;
    const current =
      entry === undefined || now - entry.windowStart > limits.failureWindowMs
        ? { count: 0, windowStart: now, lockedUntil: 0, against: new Set<string>() }
        : entry;
    current.count++;
    current.against.add(against);
    if (current.count >= limits.maxFailures) {
      current.lockedUntil = now + limits.lockoutMs;
      current.count = 0;
      current.windowStart = current.lockedUntil;
    }
    this.#failures.set(address, current);
  }

  #report(
    attempt: { kind: KeyKind; address: string; dsn?: string },
    outcome: KeyRefusedEvent['outcome'],
  ): void {
    this.observer?.keyRefused({
      kind: attempt.kind,
      address: attempt.address,
      ...(attempt.dsn === undefined ? {} : { dsn: attempt.dsn }),
      outcome,
    });
  }
}

/**
 * Constant time in the keys' content and length: both sides are hashed to 32 bytes first, so
 * timingSafeEqual never sees buffers of different lengths (which it would refuse early).
 */
export function sameKey(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
