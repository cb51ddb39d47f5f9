import type { Readable, Writable } from 'node:stream';

/** What a command touches of the outside world, injected so tests run commands in-process. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** where `--connect -` reads from; default process.stdin */
  readonly stdin?: Readable & { isTTY?: boolean };
}

/** Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error. */
export const EXIT = Object.freeze({ OK: 0, FAILURE: 1, USAGE: 2 });

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A flag's value as a whole number from `min` to `max`, else a UsageError naming the flag. */
export function wholeNumberOption(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${name} ${value} is not a whole number from ${min} to ${max}`);
  }
  return n;
}
