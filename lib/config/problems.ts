/**
 * A finding about the configuration: where it is (file, line, DSN, key), what is wrong, and the fix.
 * Validation collects every problem of every DSN before reporting, so a user fixes them in one pass.
 */
export interface ConfigProblem {
  /**
   * error: the DSN (or the file) cannot be used; warning: it can, but something is likely wrong;
   * note: nothing is wrong, and tokenshim says what it makes of a line (a DataDirect-only option)
   */
  readonly severity: 'error' | 'warning' | 'note';
  /** file path, or `connection string` */
  readonly source: string;
  readonly line?: number;
  readonly dsn?: string;
  readonly key?: string;
  /** what is wrong; never contains a secret value */
  readonly message: string;
  /** what to do about it */
  readonly fix?: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.source : `${p.source}:${p.line}`;
  const scope = [p.dsn === undefined ? '' : `[${p.dsn}]`, p.key ?? ''].filter(Boolean).join(' ');
  const fix = p.fix ? ` Fix: ${p.fix}` : '';
  return `${where}: ${p.severity}: ${scope ? `${scope}: ` : ''}${p.message}${fix}`;
}

export function hasErrors(problems: readonly ConfigProblem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** Control characters that would end up inside an HTTP header or request line. */
export const UNSAFE_VALUE_CHARS = /[\r\n\0]/;
