/**
 * A finding about the configuration: where it is (file, line, DSN, key), what is wrong, and the fix.
 * Validation collects every problem of every DSN before reporting, so a user fixes them in one pass.
 */
export interface ConfigProblem {
  readonly severity: 'error' | 'warning';
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
