import type { Writable } from 'node:stream';
import {
  brotliDecompressSync,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  type BrotliDecompress,
  type Gunzip,
  type Inflate,
  type InflateRaw,
  gunzipSync,
  inflateRawSync,
  inflateSync,
} from 'node:zlib';
import type { BodySink, ByteConsumer } from './body-sink.js';

export type ContentCoding = 'identity' | 'gzip' | 'deflate' | 'br';

/**
 * The coding of a Content-Encoding value that tokenshim can decode; undefined for anything else
 * (zstd, which node 20 lacks, `compress`, or several codings stacked), whose bodies are left alone.
 */
export function decodableCoding(value: string | undefined): ContentCoding | undefined {
  if (value === undefined) return 'identity';
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'identity') return 'identity';
  if (v === 'gzip' || v === 'x-gzip') return 'gzip';
  if (v === 'deflate' || v === 'br') return v;
  return undefined;
}

type Decoder = Gunzip | Inflate | InflateRaw | BrotliDecompress;

/**
 * An upstream body decoded (gzip, deflate, br) into a ByteConsumer, with backpressure both ways:
 * the consumer writes to `output`, and while `output` needs draining the decoder pauses, its
 * buffer fills, and `write` tells undici to pause the upstream until `resume`. So memory stays at
 * a few buffers whatever the body's size. An identity body goes to the consumer as it arrives.
 */
export class DecodedBody implements BodySink {
  readonly #coding: ContentCoding;
  readonly #consumer: ByteConsumer;
  readonly #output: Writable;
  readonly #resume: () => void;
  #decoder: Decoder | undefined;
  #ended = false;

  constructor(coding: ContentCoding, consumer: ByteConsumer, output: Writable, resume: () => void) {
    this.#coding = coding;
    this.#consumer = consumer;
    this.#output = output;
    this.#resume = resume;
  }

  write(chunk: Buffer): boolean {
    if (this.#coding === 'identity') {
      this.#consumer.push(chunk);
      if (!this.#output.writableNeedDrain) return true;
      this.#output.once('drain', this.#resume);
      return false;
    }
    const decoder = (this.#decoder ??= this.#createDecoder(chunk));
    if (decoder.write(chunk)) return true;
    decoder.once('drain', this.#resume);
    return false;
  }

  end(): void {
    if (this.#decoder === undefined) {
      this.#ended = true;
      this.#consumer.end();
    } else {
      this.#decoder.end();
    }
  }

  abort(): void {
    this.#ended = true;
    this.#decoder?.destroy();
  }

  #createDecoder(first: Buffer): Decoder {
    const decoder = createDecoder(this.#coding, first);
    decoder.on('data', (bytes: Buffer) => {
      this.#consumer.push(bytes);
      if (!this.#output.writableNeedDrain) return;
      decoder.pause();
      this.#output.once('drain', () => decoder.resume());
    });
    decoder.once('end', () => {
      if (this.#ended) return;
      this.#ended = true;
      this.#consumer.end();
    });
    decoder.once('error', (err) => {
      if (this.#ended) return;
      this.#ended = true;
      this.#consumer.fail(err);
    });
    return decoder;
  }
}

function createDecoder(coding: ContentCoding, first: Buffer): Decoder {
  switch (coding) {
    case 'gzip':
      return createGunzip();
    case 'br':
      return createBrotliDecompress();
    default:
      // RFC 9110 8.4.1.2 says zlib-wrapped; some servers send raw deflate. A zlib stream starts
      // with CM=8 in the low nibble of its first byte (RFC 1950 2.2), as undici's fetch checks too.
      return (first[0]! & 0x0f) === 0x08 ? createInflate() : createInflateRaw();
  }
}

/**
 * A small body decoded at once (RefreshOnBody looks at a few KiB); undefined when it does not
 * decode, or decodes to more than `maxOutputBytes` (a compression bomb is not unpacked).
 */
export function decodeWhole(
  coding: ContentCoding,
  bytes: Buffer,
  maxOutputBytes: number,
): Buffer | undefined {
  const limit = { maxOutputLength: maxOutputBytes };
  try {
    switch (coding) {
      case 'identity':
        return bytes;
      case 'gzip':
        return gunzipSync(bytes, limit);
      case 'br':
        return brotliDecompressSync(bytes, limit);
      default:
        // as createDecoder: zlib-wrapped or raw deflate, told apart by the first byte
        return (bytes[0]! & 0x0f) === 0x08
          ? inflateSync(bytes, limit)
          : inflateRawSync(bytes, limit);
    }
  } catch {
    return undefined;
  }
}
