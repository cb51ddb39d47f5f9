import { ConfigError, TokenshimError } from '../errors.js';
import { EXIT, UsageError, type CliIo } from './io.js';

/**
 * Runs a command and reports its failure once, as mockttp's CLI does: usage and configuration
 * errors exit 2 with a pointer to --help, runtime failures exit 1 with the error's own message
 * (TokenshimErrors are written for users and carry no secret). Anything else is a bug: its
 * message was not written for users and could quote a value, so only its name is shown.
 */
export async function reportCommandErrors(
  command: string,
  io: CliIo,
  run: () => Promise<number>,
): Promise<number> {
  try {
    return await run();
  } catch (e) {
    if (
      e instanceof UsageError ||
      e instanceof ConfigError ||
      (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      io.stderr.write(
        `tokenshim ${command}: ${(e as Error).message}\nRun tokenshim ${command} --help for its options.\n`,
      );
      return EXIT.USAGE;
    }
    if (e instanceof TokenshimError) {
      io.stderr.write(`tokenshim ${command}: ${e.message}\n`);
      return EXIT.FAILURE;
    }
    io.stderr.write(
      `tokenshim ${command}: failed with an unexpected ${e instanceof Error ? e.name : typeof e}; please report it.\n`,
    );
    return EXIT.FAILURE;
  }
}
