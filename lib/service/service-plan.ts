import { windowsCommandLine } from '../platform/windows-command-line.js';
import type { ServiceHost } from './service-host.js';

/** One step of a service action: a folder, a file, a copied binary, a command. */
export type PlanStep =
  | { readonly kind: 'mkdir'; readonly path: string }
  | { readonly kind: 'write'; readonly path: string; readonly content: string }
  | { readonly kind: 'copy'; readonly from: string; readonly to: string }
  | { readonly kind: 'remove'; readonly path: string }
  | {
      readonly kind: 'run';
      readonly file: string;
      readonly args: readonly string[];
      /** a failure does not stop the plan (stopping a service that is not running) */
      readonly mayFail?: boolean;
      /** print what it says (status) */
      readonly show?: boolean;
    };

/** What `tokenshim service <action>` does, as data: `--dry-run` prints it, otherwise it runs. */
export interface ServicePlan {
  readonly steps: readonly PlanStep[];
  /** said before the steps: what will be registered, for whom */
  readonly summary: readonly string[];
  /** said after: warnings and the next command to run */
  readonly notes: readonly string[];
}

/** The plan as text: every file in full, every command as it would be typed. */
export function describePlan(plan: ServicePlan, platform: NodeJS.Platform): string {
  const out = [...plan.summary, ''];
  for (const step of plan.steps) {
    switch (step.kind) {
      case 'mkdir':
        out.push(`create folder ${step.path}`);
        break;
      case 'write':
        out.push(
          `write ${step.path}:`,
          ...step.content
            .trimEnd()
            .split(/\r?\n/)
            .map((l) => `  ${l}`),
        );
        break;
      case 'copy':
        out.push(`copy ${step.from}`, `  to ${step.to}`);
        break;
      case 'remove':
        out.push(`remove ${step.path}`);
        break;
      case 'run':
        out.push(`run: ${commandLine(step.file, step.args, platform)}`);
        break;
    }
  }
  if (plan.notes.length > 0) out.push('', ...plan.notes);
  return `${out.join('\n')}\n`;
}

export function commandLine(
  file: string,
  args: readonly string[],
  platform: NodeJS.Platform,
): string {
  if (platform === 'win32') return windowsCommandLine([file, ...args]);
  return [file, ...args]
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))
    .join(' ');
}

/**
 * Runs the steps in order and stops at the first command that fails (unless it may). Returns
 * what a person should read: the output of the commands that show theirs, or the failure.
 */
export async function runPlan(
  plan: ServicePlan,
  host: ServiceHost,
): Promise<{ ok: boolean; output: string }> {
  const shown: string[] = [];
  for (const step of plan.steps) {
    if (step.kind !== 'run') {
      try {
        await applyFileStep(step, host);
      } catch (e) {
        // no privilege to write there, most often: said with the step, not as a stack
        return { ok: false, output: `${describeStep(step)} failed: ${(e as Error).message}` };
      }
      continue;
    }
    const r = await host.exec(step.file, step.args);
    const said = `${r.stdout}${r.stderr}`.trim();
    if (step.show && said) shown.push(said);
    if (r.code !== 0 && !step.mayFail) {
      return {
        ok: false,
        output:
          `${commandLine(step.file, step.args, host.platform)} failed (exit ${r.code})` +
          (said ? `:\n${said}` : ''),
      };
    }
  }
  return { ok: true, output: shown.join('\n') };
}

async function applyFileStep(
  step: Exclude<PlanStep, { kind: 'run' }>,
  host: ServiceHost,
): Promise<void> {
  switch (step.kind) {
    case 'mkdir':
      return host.mkdir(step.path);
    case 'write':
      return host.writeFile(step.path, step.content);
    case 'copy':
      return host.copyFile(step.from, step.to);
    case 'remove':
      return host.remove(step.path);
  }
}

function describeStep(step: Exclude<PlanStep, { kind: 'run' }>): string {
  switch (step.kind) {
    case 'mkdir':
      return `creating ${step.path}`;
    case 'write':
      return `writing ${step.path}`;
    case 'copy':
      return `copying ${step.from} to ${step.to}`;
    case 'remove':
      return `removing ${step.path}`;
  }
}
