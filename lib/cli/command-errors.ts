import { ConfigError, TokenshimError } from '../errors.js';
import { EXIT, UsageError, type CliIo } from './io.js';

/**
 * Runs a command and reports its failure once, as mockttp's CLI does: usage errors exit 2 with a
 * pointer to --help, configuration errors exit 2, runtime failures exit 1 with the error's own message
 * (TokenshimErrors are written for users and carry no secret). A failed system call (a file or
 * directory that cannot be made or read) is described by its call, path and code. Anything else
 * is a bug: its message was not written for users and could quote a value, so only its name is
 * shown.
 */
export async function reportCommandErrors(
  command: string,
  io: Pick<CliIo, 'stderr'>,
  run: () => Promise<number>,
): Promise<number> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(
        `tokenshim ${command}: ${(e as Error).message}\nRun tokenshim ${command} --help for its options.\n`,
      );
      return EXIT.USAGE;
    }
    // the message names the option and the fix; the command's options are not the problem
    if (e instanceof ConfigError) {
      io.stderr.write(`tokenshim ${command}: ${e.message}\n`);
      return EXIT.USAGE;
    }
    io.stderr.write(`tokenshim ${command}: ${describeFailure(e)}\n`);
    return EXIT.FAILURE;
  }
}

/** A runtime failure in one line a user may see. */
export function describeFailure(e: unknown): string {
  if (e instanceof TokenshimError) return e.message;
  const system = describeSystemError(e);
  if (system !== undefined) return system;
  return `failed with an unexpected ${e instanceof Error ? e.name : typeof e}; please report it.`;
}

/** `mkdir /srv/ca failed (EACCES)`: built from the fields, never from the message. */
function describeSystemError(e: unknown): string | undefined {
  const { code, syscall, path, dest } = (e ?? {}) as NodeJS.ErrnoException & { dest?: string };
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code) || typeof syscall !== 'string') {
    return undefined;
  }
  const where = [path, dest].filter((p): p is string => typeof p === 'string').join(' -> ');
  return `${syscall}${where ? ` ${where}` : ''} failed (${code})`;
}
