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
 * chunks read so far are sent first, then the rest as it arrives).
 */
export async function readReplayableBody(
  req: IncomingMessage,
  contentLength: number,
  limit: number,
): Promise<UpstreamBody> {
  if (contentLength > limit) return { kind: 'stream', stream: req };
  const iterator = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const step = await iterator.next();
    if (step.done)
      return {
        kind: 'buffered',
        bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size),
      };
    chunks.push(step.value);
    size += step.value.length;
    if (size > limit)
      return {
        kind: 'stream',
        stream: Readable.from(continueWith(chunks, iterator), { objectMode: false }),
      };
  }
}

async function* continueWith(read: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* read;
  read.length = 0;
  for (;;) {
    const step = await rest.next();
    if (step.done) return;
    yield step.value;
  }
}
