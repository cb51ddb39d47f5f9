/**
 * One argument of a Windows command line, quoted so that CommandLineToArgvW (and the C runtime
 * node.exe starts with) gives it back unchanged: paths with spaces (`C:\Program Files\nodejs`)
 * get quotes; backslashes are literal except before a quote, where they are doubled, and so
 * are the ones at the end of a quoted argument (`"C:\dir\\"`). The rules libuv follows when node
 * spawns a process on Windows.
 */
export function quoteWindowsArgument(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      backslashes++;
      continue;
    }
    if (ch === '"') {
      out += '\\'.repeat(backslashes * 2 + 1) + '"';
    } else {
      out += '\\'.repeat(backslashes) + ch;
    }
    backslashes = 0;
  }
  return `${out}${'\\'.repeat(backslashes * 2)}"`;
}

/** A whole command line: each argument quoted as needed, separated by spaces. */
export function windowsCommandLine(args: readonly string[]): string {
  return args.map(quoteWindowsArgument).join(' ');
}
