import type { Duplex } from 'node:stream';

/**
 * `http://127.0.0.1:8791`: the address a client reached tokenshim on, read from the connection,
 * for messages that tell it which URL to use instead (the port is whatever --port said).
 */
export function localOrigin(socket: Duplex): string {
  const { localAddress, localPort } = socket as Duplex & {
    localAddress?: string;
    localPort?: number;
  };
  const host = localAddress === undefined ? '127.0.0.1' : localAddress.replace(/^::ffff:/, '');
  return `http://${host.includes(':') ? `[${host}]` : host}:${localPort ?? ''}`;
}
