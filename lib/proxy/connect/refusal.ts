import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DsnConfig } from '../../config/dsn.js';
import { ConnectRefusedError, ConnectUnsupportedError, type TokenshimError } from '../../errors.js';
import { writeProblemToSocket } from '../../http/problem.js';
import { localOrigin } from './local-origin.js';
import type { ConnectHandler } from './types.js';

/**
 * The default CONNECT answer: 501 with a problem body. A tunnel would carry encrypted bytes
 * tokenshim cannot add a credential to; createConnectHandler (a local CA) replaces this.
 */
export const refuseConnect: ConnectHandler = Object.assign(
  (req: IncomingMessage, socket: Duplex): void => {
    // a client that resets first must not take the process down with an unhandled 'error'
    socket.on('error', () => socket.destroy());
    writeProblemToSocket(socket, new ConnectUnsupportedError(req.url ?? '', localOrigin(socket)));
  },
  { close: () => Promise.resolve() },
);

/** A CONNECT target that is not `host:port`. */
export function badTargetError(target: string): TokenshimError {
  return new ConnectRefusedError(
    `CONNECT needs a target of the form host:port (RFC 9110 9.3.6), got "${target.slice(0, 100)}".`,
    { status: 400, target: target.slice(0, 100) },
  );
}

/** A CONNECT neither intercepted nor tunnelled: say which option would open it. */
/** `gateway`: tokenshim's own origin as the client reached it (localOrigin(socket)). */
export function notOpenedError(
  target: string,
  dsn: DsnConfig | undefined,
  gateway: string,
): TokenshimError {
  return dsn
    ? new ConnectRefusedError(
        `CONNECT to ${target} is refused: DSN "${dsn.name}" does not have InterceptTLS=1, so tokenshim cannot ` +
          `attach its credentials to HTTPS sent through a proxy. Set InterceptTLS=1 on the DSN (after \`tokenshim ca init\`), ` +
          `or call ${gateway}/${dsn.name}/ instead of using tokenshim as a proxy.`,
        { dsn: dsn.name, target },
      )
    : new ConnectRefusedError(
        `CONNECT to ${target} is refused: it is not the host of any DSN. ` +
          'Set TunnelOtherHosts=1 on a DSN to let tokenshim pass other hosts through untouched (no credentials).',
        { target },
      );
}

/** TunnelOtherHosts serves this machine only: for other machines it would be an open relay. */
export function remoteTunnelError(target: string): TokenshimError {
  return new ConnectRefusedError(
    `CONNECT to ${target} is refused: TunnelOtherHosts passes other hosts through for clients on ` +
      "this machine only; for a client on another machine tokenshim would be an open relay. Call the DSN's " +
      'gateway URL instead.',
    { target },
  );
}
