import { fork, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import type { ChildReply, ChildRequest } from './ipc.js';

/**
 * Every process the bench starts, so that none outlives it: on normal exit, on Ctrl-C, on an
 * uncaught error. Forked node children also exit on their own when the IPC channel drops
 * (bench/ipc.ts exitWithParent), which covers a parent killed with SIGKILL.
 */
export class ChildProcesses {
  readonly #children = new Set<ChildProcess>();
  #installed = false;

  /** A node child speaking bench/ipc.ts; resolves once it reports `ready`. */
  async fork<Ready>(
    modulePath: string,
    args: readonly string[],
    opts: { execArgv?: string[]; env?: NodeJS.ProcessEnv; readyTimeoutMs?: number } = {},
  ): Promise<NodeChild<Ready>> {
    const child = fork(modulePath, [...args], {
      // stdout carries the child's logs (tokenshim logs each request): discard it, as a service's
      // log shipper would, but keep stderr to explain a failure
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: opts.execArgv ?? [],
      env: opts.env ?? process.env,
    });
    this.#track(child);
    const stderr = tail(child);
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${modulePath} did not start in time\n${stderr()}`)),
        opts.readyTimeoutMs ?? 20_000,
      );
      const onMessage = (m: ChildReply): void => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve(m.payload as Ready);
        } else if (m.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(`${modulePath} failed to start: ${m.message}`));
        }
      };
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        reject(new Error(`${modulePath} exited (${code}) before it was ready\n${stderr()}`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    return new NodeChild<Ready>(child, ready, stderr);
  }

  /** A non-node process (nginx, wrk); `stdout` is collected when `collect` is set. */
  spawn(command: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.#track(child);
    return child;
  }

  /** Kills every child still running (SIGKILL: used on the way out, when nothing can wait). */
  killAll(): void {
    for (const c of this.#children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    this.#children.clear();
  }

  #track(child: ChildProcess): void {
    this.#installHandlers();
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    // a failed spawn (ENOENT) is reported by whoever awaits the child; do not crash here
    child.on('error', () => undefined);
  }

  #installHandlers(): void {
    if (this.#installed) return;
    this.#installed = true;
    process.once('exit', () => this.killAll());
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        this.killAll();
        console.error(`\nbench: ${signal}, child processes stopped`);
        process.exit(130);
      });
    }
  }
}

/** A forked node child: its pid, what it reported at start, and request/response over IPC. */
export class NodeChild<Ready> {
  #nextId = 1;
  readonly #pending = new Map<number, (m: ChildReply) => void>();

  constructor(
    readonly process: ChildProcess,
    readonly ready: Ready,
    readonly stderr: () => string,
  ) {
    process.on('message', (m: ChildReply) => {
      if (m.type !== 'reply') return;
      const done = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      done?.(m);
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** undefined while running; else how it ended and the last lines of its stderr */
  exitReport(): string | undefined {
    const p = this.process;
    if (p.exitCode === null && p.signalCode === null) return undefined;
    const lines = this.stderr().trim().split('\n').slice(-12).join('\n');
    return `the process exited (${p.exitCode ?? p.signalCode})${lines ? `:\n${lines}` : ''}`;
  }

  async request<T>(command: string, payload?: unknown, timeoutMs = 10_000): Promise<T> {
    const id = this.#nextId++;
    const msg: ChildRequest = { type: 'request', id, command, payload };
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`child ${this.pid} did not answer ${command}`));
      }, timeoutMs);
      this.#pending.set(id, (m) => {
        clearTimeout(timer);
        if (m.type === 'reply' && m.error !== undefined) reject(new Error(m.error));
        else if (m.type === 'reply') resolve(m.payload as T);
      });
      this.process.send(msg);
    });
  }

  /**
   * Asks the child to close its servers and exit normally (so --cpu-prof writes its profile);
   * kills it when it takes longer than `timeoutMs`.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    const p = this.process;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = once(p, 'exit');
    if (p.connected) p.send({ type: 'request', id: 0, command: 'close' } satisfies ChildRequest);
    else p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/** The last few KiB of a child's stderr, to explain a failure. */
function tail(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    text = (text + chunk).slice(-8192);
  });
  return () => text;
}
