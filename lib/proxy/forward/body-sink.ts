/**
 * Where an upstream body goes when it is not passed straight through to the client: the JSON URL
 * rewriter (rewritten-body.ts) or one page of a joined answer (lib/proxy/paging/). The Exchange
 * hands it undici's chunks as they arrive; `write` returning false pauses the upstream until the
 * sink calls the `resume` it was made with.
 */
export interface BodySink {
  write(chunk: Buffer): boolean;
  /** the upstream body ended */
  end(): void;
  /** the upstream failed mid-body: release what the sink holds (the Exchange reports the failure) */
  abort(): void;
}

/** The synchronous end of a sink: decoded bytes in, whatever it makes of them written onwards. */
export interface ByteConsumer {
  push(bytes: Buffer): void;
  end(): void;
  /** the body could not be decoded */
  fail(err: Error): void;
}
