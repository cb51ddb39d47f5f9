import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import type { Machine } from './results-model.js';

/** `nginx version: nginx/1.22.1`, or undefined when nginx is not on PATH */
export async function nginxVersion(): Promise<string | undefined> {
  return new Promise((resolve) =>
    execFile('nginx', ['-v'], (error, stdout, stderr) => {
      if (error) return resolve(undefined);
      const text = `${stdout}${stderr}`.trim();
      resolve(text.replace(/^nginx version:\s*/, '') || undefined);
    }),
  );
}

/** true when `command` can be run (wrk exits non-zero for -v, so only ENOENT counts as missing) */
export async function installed(command: string): Promise<boolean> {
  return new Promise((resolve) =>
    execFile(command, ['-v'], (error) =>
      resolve(!(error && (error as NodeJS.ErrnoException).code === 'ENOENT')),
    ),
  );
}

export function describeMachine(nginx: string | undefined, loadGenerator: string): Machine {
  let cpuModel = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    // not Linux: the model stays unknown
  }
  return {
    cpus: availableParallelism(),
    cpuModel,
    node: process.version,
    nginx,
    loadGenerator,
    kernel: release(),
    loadAverageAtStart: loadavg()[0] ?? 0,
    date: new Date().toISOString(),
  };
}
