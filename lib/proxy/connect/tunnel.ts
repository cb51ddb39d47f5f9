import { connect as connectTcp } from 'node:net';
import type { Duplex } from 'node:stream';
import type { DsnConfig } from '../../config/dsn.js';
import { CODES, TokenshimError } from '../../errors.js';
import type { ConnectContext } from './types.js';

export interface TunnelTo {
  readonly host: string;
  readonly port: number;
  /** `host:port` as the client asked for it */
  readonly target: string;
  /** the DSN whose host this is, when one is (its credentials are not attached: only logged) */
  readonly dsn?: DsnConfig | undefined;
}

/**
 * Relays bytes both ways between the client and `to`, untouched: no credentials, no decryption.
 * The client gets its 200 only once the target accepted the connection, else a 502 problem.
 */
export function openTunnel(
  ctx: ConnectContext,
  socket: Duplex,
  head: Buffer,
  to: TunnelTo,
  timeoutMs: number,
): void {
  const { host, port, target, dsn } = to;
  if (dsn) {
    ctx.logger.warn(
      { target, dsn: dsn.name },
      'CONNECT to a DSN host is tunnelled without credentials: set InterceptTLS=1 on the DSN to attach them',
    );
  }
  const upstream = connectTcp({ host, port });
  ctx.track(upstream);
  let established = false;
  const timer = setTimeout(
    () => upstream.destroy(new Error(`no connection within ${timeoutMs} ms`)),
    timeoutMs,
  );
  upstream.once('connect', () => {
    clearTimeout(timer);
    if (socket.destroyed) {
      upstream.destroy();
      return;
    }
    established = true;
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
    ctx.report({ target, outcome: 'tunnelled', ...(dsn ? { dsn: dsn.name } : {}) });
    ctx.logger.debug({ target }, 'CONNECT tunnelled');
  });
  upstream.on('error', (err) => {
    clearTimeout(timer);
    if (established) {
      socket.destroy();
      return;
    }
    ctx.refuse(
      socket,
      target,
      new TokenshimError(
        CODES.TUNNEL_FAILED,
        `tokenshim could not reach ${target} to tunnel to it: ${err.message}. Check the host name, port and network.`,
        { status: 502, ...(dsn ? { dsn: dsn.name } : {}) },
      ),
    );
  });
  socket.on('close', () => upstream.destroy());
  upstream.on('close', () => {
    clearTimeout(timer);
    // before the tunnel is up, the client is being sent a problem body: let it finish
    if (established) socket.destroy();
  });
}
