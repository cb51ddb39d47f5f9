import { parseArgs } from 'node:util';
import { reportCommandErrors } from './command-errors.js';
import { EXIT, UsageError, type CliIo } from './io.js';

/** One option of a command, as node's parseArgs takes it plus what --help says about it. */
export interface CommandOption {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly default?: string | boolean;
  /** may be given more than once (`--accept-host a --accept-host b`): the value is a list */
  readonly multiple?: boolean;
  /** the value's name in --help (`--config FILE`) */
  readonly value?: string;
  /** what --help says; a `\n` continues on the next line, aligned */
  readonly help: string;
}

export type CommandOptions = Readonly<Record<string, CommandOption>>;

type OptionValue<T extends CommandOption> = T['type'] extends 'boolean'
  ? boolean
  : T extends { readonly multiple: true }
    ? string[]
    : string;

export type CommandValues<O extends CommandOptions> = {
  readonly [K in keyof O]: O[K] extends { readonly default: string | boolean }
    ? OptionValue<O[K]>
    : OptionValue<O[K]> | undefined;
};

export interface CommandArgs<O extends CommandOptions> {
  readonly values: CommandValues<O>;
  readonly positionals: readonly string[];
}

/**
 * A `tokenshim <name>` command: its options and help, and `run`, which gets parsed arguments and
 * only throws. Parsing, `--help`, reporting an error and the exit code happen once, in
 * `runCommand`.
 */
export interface CliCommand<O extends CommandOptions = CommandOptions> {
  readonly name: string;
  /** what follows `Usage: tokenshim <name> ` */
  readonly usage: string;
  /** the paragraphs of --help between the usage line and the options */
  readonly about: string;
  readonly options: O;
  /** the positional argument, when the command takes one (`DSN`) */
  readonly positional?: string;
  /** the `Exit status:` line of --help */
  readonly exitStatus: string;
  run(args: CommandArgs<O>, io: CliIo): Promise<number>;
}

/** Keeps the option names and types of a command literal, so `run` sees typed values. */
export function defineCommand<const O extends CommandOptions>(
  command: CliCommand<O>,
): CliCommand<O> {
  return command;
}

const HELP_OPTION: CommandOption = { type: 'boolean', short: 'h', help: 'show this help' };

/** Runs a command on raw arguments: parse, --help, run, and report a failure once. */
export function runCommand<O extends CommandOptions>(
  command: CliCommand<O>,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  return reportCommandErrors(command.name, io, () => parseAndRun(command, argv, io));
}

/** The part of runCommand inside the error reporter, for main (which loads the command first). */
export async function parseAndRun<O extends CommandOptions>(
  command: CliCommand<O>,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const options: Record<
    string,
    Pick<CommandOption, 'type' | 'short' | 'default' | 'multiple'>
  > = {};
  for (const [name, o] of withHelp(command.options)) {
    options[name] = {
      type: o.type,
      ...(o.short === undefined ? {} : { short: o.short }),
      ...(o.default === undefined ? {} : { default: o.default }),
      ...(o.multiple === undefined ? {} : { multiple: o.multiple }),
    };
  }
  const { values, positionals } = parseArgs({
    args: [...argv],
    options,
    allowPositionals: true,
    strict: true,
  });
  if (values.help === true) {
    io.stdout.write(helpText(command));
    return EXIT.OK;
  }
  const allowed = command.positional === undefined ? 0 : 1;
  if (positionals.length > allowed) {
    throw new UsageError(
      allowed === 0
        ? `takes no arguments (got ${positionals.join(' ')})`
        : `one ${command.positional} at a time (got ${positionals.join(', ')})`,
    );
  }
  return command.run({ values: values as CommandValues<O>, positionals }, io);
}

/** `--help`: usage, about, the options in aligned columns, exit status. */
export function helpText(command: CliCommand<CommandOptions>): string {
  const rows = withHelp(command.options).map(([name, o]) => {
    const short = o.short === undefined ? '' : `-${o.short}, `;
    const value = o.value === undefined ? '' : ` ${o.value}`;
    return [`${short}--${name}${value}`, o.help] as const;
  });
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const lines = rows.map(([label, help]) =>
    `  ${label.padEnd(width)}${help.split('\n').join(`\n  ${' '.repeat(width)}`)}`.trimEnd(),
  );
  return (
    `Usage: tokenshim ${command.name} ${command.usage}\n\n${command.about.trim()}\n\n` +
    `Options:\n${lines.join('\n')}\n\nExit status: ${command.exitStatus}\n`
  );
}

function withHelp(options: CommandOptions): [string, CommandOption][] {
  return Object.entries({ ...options, help: HELP_OPTION });
}
