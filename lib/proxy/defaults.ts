import { ADMIN_SEGMENT } from '../config/dsn-name.js';

/** The proxy's defaults in one place, units in the names. */
export const PROXY_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 8790,
  /** node's own default; larger header blocks get node's 431 */
  maxHeaderSizeBytes: 16 * 1024,
  /** more headers than this get a 431 (node would silently drop the excess) */
  maxHeaderCount: 200,
  /** how long close() waits for in-flight requests before cutting them */
  drainMs: 10_000,
  /**
   * How long a client has to send a request's headers (from connecting, or from the request's
   * first byte on a kept-alive connection): silent and slowloris connections are closed with 408.
   * Clients on this machine send their headers at once; 30 s leaves room for a slow remote link.
   */
  clientHeadersTimeoutMs: 30_000,
  /**
   * How long a client connection may stay silent between requests and while tokenshim reads its
   * request body. Node's 5 s keep-alive default races clients that keep connections longer (a
   * request sent as the server closes is lost); 65 s outlasts the usual 60 s client pools.
   */
  clientIdleTimeoutMs: 65_000,
  /** the admin prefix: everything under it is tokenshim's own */
  adminPrefix: `/${ADMIN_SEGMENT}/`,
});
