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
   * How long an idle client connection stays open. Node's 5 s default races clients that keep
   * connections longer (a request sent as the server closes is lost); 65 s outlasts the usual
   * 60 s client pools.
   */
  clientKeepAliveMs: 65_000,
  /** the admin prefix: everything under it is tokenshim's own */
  adminPrefix: `/${ADMIN_SEGMENT}/`,
});
