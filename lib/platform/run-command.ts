import { execFile } from 'node:child_process';

/**
 * The one way tokenshim runs a Windows tool (REG.EXE, icacls): a seam, so the code that builds
 * the command line and reads the output is tested on any platform with captured output.
 */
export interface CommandResult {
  /** exit code; a tool that could not be started rejects instead */
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

export type RunCommand = (file: string, args: readonly string[]) => Promise<CommandResult>;

/** The DSN keys of a busy machine fit easily; the cap only stops a runaway tool. */
const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;

export const runCommand: RunCommand = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { encoding: 'buffer', windowsHide: true, maxBuffer: MAX_OUTPUT_BYTES },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        if (error && typeof code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: typeof code === 'number' ? code : 0, stdout, stderr });
      },
    );
  });

/** `C:\Windows\System32\<tool>`: the system's own copy, never one found first on PATH. */
export function system32Tool(tool: string, env: NodeJS.ProcessEnv): string {
  return `${env.SystemRoot ?? env.windir ?? 'C:\\Windows'}\\System32\\${tool}`;
}
