import { execFile } from 'node:child_process';
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir, userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * What `tokenshim service` touches of the machine: the platform, the files it writes and the
 * commands it runs (WinSW, icacls, systemctl). Injected, so the Windows branch runs here under
 * test and `--dry-run` touches nothing.
 */
export interface ServiceHost {
  readonly platform: NodeJS.Platform;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly homedir: string;
  /** node.exe / node that will run the service */
  readonly execPath: string;
  /** tokenshim's bin.js, absolute */
  readonly entryScript: string;
  /** who runs this command (the default User= of a system unit) */
  readonly username: string;
  readonly isRoot: boolean;
  /** WinSW, as shipped in the node-windows package */
  winswExecutable(): string;
  exec(file: string, args: readonly string[]): Promise<CommandResult>;
  writeFile(path: string, content: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  remove(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
}

/** This process on this machine. */
export function processServiceHost(env: NodeJS.ProcessEnv, cwd: string): ServiceHost {
  return {
    platform: process.platform,
    env,
    cwd,
    homedir: homedir(),
    execPath: process.execPath,
    entryScript: fileURLToPath(new URL('../cli/bin.js', import.meta.url)),
    username: env.SUDO_USER ?? userInfo().username,
    isRoot: process.getuid?.() === 0,
    winswExecutable: () =>
      createRequire(import.meta.url).resolve('node-windows/bin/winsw/winsw.exe'),
    exec: (file, args) =>
      new Promise((resolve) => {
        execFile(file, [...args], { windowsHide: true }, (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 127;
          resolve({ code, stdout, stderr: stderr || (error && code === 127 ? error.message : '') });
        });
      }),
    writeFile: (path, content) => writeFile(path, content, { mode: 0o644 }),
    copyFile: (from, to) => copyFile(from, to),
    mkdir: async (path) => {
      await mkdir(path, { recursive: true });
    },
    remove: (path) => rm(path, { force: true }),
    exists: (path) =>
      stat(path).then(
        () => true,
        () => false,
      ),
  };
}
