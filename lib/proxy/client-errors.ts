import type { Duplex } from 'node:stream';

/**
 * What a connection that broke HTTP, or ran out of its headers timeout, is told before it is
 * closed (node's 'clientError'; its own answer has no Content-Length, which some clients wait on).
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${statusLine(err.code)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function statusLine(code: string | undefined): string {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return '431 Request Header Fields Too Large';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return '408 Request Timeout';
    default:
      return '400 Bad Request';
  }
}
