import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DsnConfig } from '../../config/dsn.js';
import type { TokenshimError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { ClientTimeouts } from '../client-timeouts.js';

/**
 * What answers `CONNECT host:port` on the proxy's listeners (`socket` is the client's raw
 * connection); `close()` ends every tunnel and intercepted session it holds, when the proxy closes.
 */
export interface ConnectHandler {
  (req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

export type ConnectOutcome = 'intercepted' | 'tunnelled' | 'refused';

export interface ConnectEvent {
  /** `host:port` as the client asked for it */
  readonly target: string;
  readonly outcome: ConnectOutcome;
  readonly dsn?: string;
  /** for refusals: the problem's code and status */
  readonly code?: string;
  readonly status?: number;
}

/** where an intercepted connection's requests go */
export interface DecryptedTarget {
  readonly host: string;
  readonly port: number;
  /** `https://host[:port]`, as URL.origin spells it */
  readonly origin: string;
}

/** Serves one decrypted request for `dsn`; `req.url` is its path and query at `target.origin`. */
export type ServeDecrypted = (
  dsn: DsnConfig,
  req: IncomingMessage,
  res: ServerResponse,
  target: DecryptedTarget,
) => void;

/** What a CONNECT handler needs of the proxy it is plugged into (lib/proxy/server.ts). */
export interface ConnectHost {
  /** the listeners' client timeouts, which decrypted connections get too */
  readonly clientTimeouts: ClientTimeouts;
  /** the current DSNs (after reloads too) */
  dsns(): readonly DsnConfig[];
  handleDsnRequest(
    dsn: string,
    req: IncomingMessage,
    res: ServerResponse,
    upstreamPath: string,
    opts?: { origin?: string },
  ): void;
}

/** What the interceptor and the tunnel share with the handler that started them. */
export interface ConnectContext {
  readonly logger: Logger;
  /** keeps a stream to destroy when the handler closes */
  track(stream: Duplex): void;
  /** one CONNECT's outcome, for metrics */
  report(event: ConnectEvent): void;
  /** answers the CONNECT with a problem, logged and reported as refused */
  refuse(socket: Duplex, target: string, error: TokenshimError): void;
}
