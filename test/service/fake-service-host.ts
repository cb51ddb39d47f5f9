import type { CommandResult, ServiceHost } from '../../lib/service/service-host.js';

export interface FakeServiceHost extends ServiceHost {
  /** every change and command, in order */
  readonly calls: string[];
  readonly files: Map<string, string>;
}

/** A machine that records what `tokenshim service` does to it; commands answer from `answers`. */
export function fakeServiceHost(
  platform: 'win32' | 'linux',
  overrides: Partial<ServiceHost> & {
    answers?: (file: string, args: readonly string[]) => Partial<CommandResult>;
    existing?: string[];
  } = {},
): FakeServiceHost {
  const calls: string[] = [];
  const files = new Map<string, string>();
  const existing = new Set(overrides.existing ?? []);
  const win = platform === 'win32';
  return {
    platform,
    env: win ? { ProgramData: 'C:\\ProgramData', USERPROFILE: 'C:\\Users\\admin' } : {},
    cwd: win ? 'C:\\Users\\admin' : '/home/qlik',
    homedir: win ? 'C:\\Users\\admin' : '/home/qlik',
    execPath: win ? 'C:\\Program Files\\nodejs\\node.exe' : '/usr/bin/node',
    entryScript: win
      ? 'C:\\Program Files\\tokenshim\\node_modules\\tokenshim\\dist\\lib\\cli\\bin.js'
      : '/usr/lib/node_modules/tokenshim/dist/lib/cli/bin.js',
    username: 'qlik',
    isRoot: false,
    winswExecutable: () =>
      win
        ? 'C:\\Program Files\\tokenshim\\node_modules\\tokenshim\\node_modules\\node-windows\\bin\\winsw\\winsw.exe'
        : '/usr/lib/node_modules/tokenshim/node_modules/node-windows/bin/winsw/winsw.exe',
    exec: async (file, args) => {
      calls.push(`run ${[file, ...args].join(' ')}`);
      return { code: 0, stdout: '', stderr: '', ...overrides.answers?.(file, args) };
    },
    writeFile: async (path, content) => {
      calls.push(`write ${path}`);
      files.set(path, content);
      existing.add(path);
    },
    copyFile: async (from, to) => {
      calls.push(`copy ${from} -> ${to}`);
      existing.add(to);
    },
    mkdir: async (path) => {
      calls.push(`mkdir ${path}`);
    },
    remove: async (path) => {
      calls.push(`remove ${path}`);
      existing.delete(path);
    },
    exists: async (path) => existing.has(path),
    ...overrides,
    calls,
    files,
  };
}
