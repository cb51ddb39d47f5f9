/** Messages between the bench (parent) and the processes it forks (upstream, proxies). */

export interface ChildRequest {
  readonly type: 'request';
  /** 0 for `close`, which gets no reply: the child exits */
  readonly id: number;
  readonly command: string;
  readonly payload?: unknown;
}

export type ChildReply =
  | { readonly type: 'ready'; readonly payload: unknown }
  | { readonly type: 'failed'; readonly message: string }
  | {
      readonly type: 'reply';
      readonly id: number;
      readonly payload?: unknown;
      readonly error?: string;
    };

type Handler = (payload: unknown) => unknown;

/**
 * The child's side: reports `ready`, answers requests with `handlers`, and on `close` (or when
 * the parent disappears, which closes the IPC channel) runs `close` and exits with code 0, so
 * that `--cpu-prof` gets to write its profile.
 */
export function serveParent(
  ready: unknown,
  handlers: Readonly<Record<string, Handler>>,
  close: () => Promise<void>,
): void {
  let closing = false;
  const exit = (): void => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(0), 5_000);
    force.unref();
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('disconnect', exit);
  process.on('SIGTERM', exit);
  // Ctrl-C reaches the whole process group: the parent decides when children stop
  process.on('SIGINT', () => undefined);
  process.on('message', (m: ChildRequest) => {
    if (m.type !== 'request') return;
    if (m.command === 'close') return exit();
    const handler = handlers[m.command];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${m.command}`);
        return handler(m.payload);
      })
      .then(
        (payload) => send({ type: 'reply', id: m.id, payload }),
        (e: unknown) => send({ type: 'reply', id: m.id, error: (e as Error).message ?? String(e) }),
      );
  });
  send({ type: 'ready', payload: ready });
}

/** Reports a start-up failure to the parent, then exits. */
export function failToParent(e: unknown): void {
  const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
  if (!process.send) {
    console.error(message);
    process.exit(1);
  }
  process.send({ type: 'failed', message } satisfies ChildReply, () => process.exit(1));
}

function send(m: ChildReply): void {
  process.send?.(m);
}
