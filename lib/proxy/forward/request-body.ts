import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/**
 * What the upstream request sends: nothing, a buffer that can be sent again (a replay after a
 * rejected token), or the client's stream, sent once as it arrives.
 */
export type UpstreamBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'buffered'; readonly bytes: Buffer }
  | { readonly kind: 'stream'; readonly stream: Readable };

export const NO_BODY: UpstreamBody = Object.freeze({ kind: 'none' });

/**
 * Buffers a body up to `limit` bytes so it can be replayed; a bigger one streams (a known
 * Content-Length over the limit streams at once, a chunked body once it outgrows the limit: the
 * chunks read so far are sent first, then the rest as it arrives). Plain 'data' events rather
 * than the stream's async iterator: this runs for every POST, and the iterator costs more than
 * the copy.
 */
export function readReplayableBody(
  req: IncomingMessage,
  contentLength: number,
  limit: number,
): Promise<UpstreamBody> {
  if (contentLength > limit) return Promise.resolve({ kind: 'stream', stream: req });
  return new Promise<UpstreamBody>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        done();
        req.pause();
        resolve({
          kind: 'stream',
          stream: Readable.from(continueWith(chunks, req), { objectMode: false }),
        });
      }
    };
    const onEnd = (): void => {
      done();
      resolve({
        kind: 'buffered',
        bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size),
      });
    };
    const onError = (e: Error): void => {
      done();
      reject(e);
    };
    const onClose = (): void => {
      done();
      reject(new Error('the client closed the connection while sending the body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

async function* continueWith(read: Buffer[], rest: IncomingMessage): AsyncGenerator<Buffer> {
  yield* read;
  read.length = 0;
  for await (const chunk of rest) yield chunk as Buffer;
}
