import type { OptionDef } from './catalogue.js';
import type { RawDsn, ValueOrigin } from './dsn.js';
import type { ConfigProblem } from './problems.js';

/**
 * One DSN's options as the families read them: each value parsed by its catalogue entry once,
 * absent and empty values replaced by the catalogue's default, every problem reported with the
 * file, line, DSN and key it concerns.
 */
export class OptionReader {
  readonly #raw: RawDsn;
  readonly #problems: ConfigProblem[];
  readonly #parsed = new Map<OptionDef, { readonly value: unknown; readonly ok: boolean }>();
  #errors = 0;

  constructor(raw: RawDsn, problems: ConfigProblem[]) {
    this.#raw = raw;
    this.#problems = problems;
  }

  /** the DSN's name, for fixes such as `add HostName=... to [crm]` */
  get dsn(): string {
    return this.#raw.name;
  }

  /** where each option came from, by canonical name */
  get origins(): ReadonlyMap<string, ValueOrigin> {
    return new Map([...this.#raw.values].map(([name, v]) => [name, v.origin]));
  }

  /** errors reported through this reader */
  get errors(): number {
    return this.#errors;
  }

  /** The text as written; undefined when the option is absent or empty. */
  text(option: OptionDef<unknown>): string | undefined {
    const v = this.#raw.values.get(option.name)?.value;
    return v === undefined || v === '' ? undefined : v;
  }

  /**
   * The parsed value, else the default. Wrong text is reported and the default stands in, so one
   * mistake does not set off a chain of others (the DSN is refused all the same).
   */
  value<T>(option: OptionDef<T> & { readonly default: T }): T;
  value<T>(option: OptionDef<T>): T | undefined;
  value<T>(option: OptionDef<T>): T | undefined {
    let parsed = this.#parsed.get(option);
    if (!parsed) {
      parsed = this.#parse(option);
      this.#parsed.set(option, parsed);
    }
    return (parsed.value as T | undefined) ?? option.default;
  }

  /** The option is set, but its text was refused. */
  refused(option: OptionDef<unknown>): boolean {
    this.value(option);
    return this.#parsed.get(option)?.ok === false;
  }

  /** A problem about one option (or about the DSN as a whole, when `option` is undefined). */
  error(option: OptionDef<unknown> | undefined, message: string, fix: string): void {
    this.#report('error', option?.name, message, fix);
  }

  warn(option: OptionDef<unknown> | undefined, message: string, fix: string): void {
    this.#report('warning', option?.name, message, fix);
  }

  #parse<T>(option: OptionDef<T>): { value: T | undefined; ok: boolean } {
    const text = this.text(option);
    if (text === undefined) return { value: undefined, ok: true };
    let ok = true;
    const value = option.parse(text, {
      option: option.name,
      default: option.default,
      error: (message, fix) => {
        ok = false;
        this.#report('error', option.name, message, fix);
      },
      warn: (message, fix) => this.#report('warning', option.name, message, fix),
    });
    return { value, ok };
  }

  #report(
    severity: 'error' | 'warning',
    option: string | undefined,
    message: string,
    fix: string,
  ): void {
    if (severity === 'error') this.#errors++;
    const origin = option === undefined ? undefined : this.#raw.values.get(option)?.origin;
    const line = origin?.line ?? this.#raw.line;
    this.#problems.push({
      severity,
      source: origin?.source ?? this.#raw.source,
      ...(line === undefined ? {} : { line }),
      dsn: this.#raw.name,
      ...(option === undefined ? {} : { key: origin?.key ?? option }),
      message,
      fix,
    });
  }
}
