import type { EventEmitter } from 'node:events';

/** Which signals stop tokenshim (drain, then exit) and which reload its configuration. */
export interface SignalRoles {
  readonly stop: readonly NodeJS.Signals[];
  readonly reload: readonly NodeJS.Signals[];
}

/**
 * POSIX: SIGTERM (systemd, docker, kill) and SIGINT (Ctrl+C) stop, SIGHUP reloads.
 *
 * Windows has no SIGTERM or SIGHUP of its own. Node maps console events onto signals: Ctrl+C is
 * SIGINT (what WinSW sends when the service is stopped), Ctrl+Break is SIGBREAK, and closing the
 * console window is SIGHUP, after which Windows ends the process about 10 s later. So on win32
 * all of them stop with a drain, and none reloads: `tokenshim reload` does that.
 */
export function signalRoles(platform: NodeJS.Platform): SignalRoles {
  return platform === 'win32'
    ? { stop: ['SIGINT', 'SIGBREAK', 'SIGHUP', 'SIGTERM'], reload: [] }
    : { stop: ['SIGTERM', 'SIGINT'], reload: ['SIGHUP'] };
}

/** Wires `signals` (the process, or a test's emitter) to the roles; returns the unsubscriber. */
export function watchSignals(
  signals: EventEmitter,
  platform: NodeJS.Platform,
  on: { stop(signal: NodeJS.Signals): void; reload(signal: NodeJS.Signals): void },
): () => void {
  const roles = signalRoles(platform);
  const listeners = [
    ...roles.stop.map((s) => [s, () => on.stop(s)] as const),
    ...roles.reload.map((s) => [s, () => on.reload(s)] as const),
  ];
  for (const [s, l] of listeners) signals.on(s, l);
  return () => {
    for (const [s, l] of listeners) signals.off(s, l);
  };
}
