import { createSecureContext, type SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../clock.js';
import type { LocalCa } from './local-ca.js';

export const LEAF_CACHE_DEFAULTS = Object.freeze({
  /** hosts kept; a proxy intercepts a handful of configured hosts, so this is never reached in practice */
  maxEntries: 256,
  /** a cached leaf this close to its notAfter is replaced before a client can see it expire */
  renewBeforeMs: 7 * 24 * 60 * 60 * 1000,
});

interface CachedLeaf {
  readonly context: SecureContext;
  readonly notAfterMs: number;
}

/**
 * TLS contexts for intercepted hosts, one leaf certificate per host, signed on first use and
 * reused until it nears expiry. lru-cache's `fetch` shares one signing among concurrent first
 * CONNECTs to the same host, and bounds memory however many hosts are seen.
 */
export class LeafCertificateCache {
  readonly #ca: LocalCa;
  readonly #clock: Clock;
  readonly #renewBeforeMs: number;
  readonly #cache: LRUCache<string, CachedLeaf>;

  constructor(
    ca: LocalCa,
    opts: { maxEntries?: number; renewBeforeMs?: number; clock?: Clock } = {},
  ) {
    this.#ca = ca;
    this.#clock = opts.clock ?? systemClock;
    this.#renewBeforeMs = opts.renewBeforeMs ?? LEAF_CACHE_DEFAULTS.renewBeforeMs;
    this.#cache = new LRUCache<string, CachedLeaf>({
      max: opts.maxEntries ?? LEAF_CACHE_DEFAULTS.maxEntries,
      fetchMethod: async (host) => {
        const leaf = await this.#ca.issueLeaf(host);
        return {
          context: createSecureContext({ cert: leaf.certificatePem, key: leaf.keyPem }),
          notAfterMs: leaf.notAfter.getTime(),
        };
      },
    });
  }

  /** the TLS context presenting a leaf for `host` (a DNS name, any case, or an IP address) */
  async secureContextFor(host: string): Promise<SecureContext> {
    const key = host.toLowerCase();
    const cached = this.#cache.get(key);
    if (cached && cached.notAfterMs - this.#renewBeforeMs <= this.#clock.now()) {
      this.#cache.delete(key);
    }
    const leaf = await this.#cache.fetch(key);
    if (!leaf) throw new Error(`no leaf certificate could be made for ${host}`);
    return leaf.context;
  }

  /** hosts currently cached */
  get size(): number {
    return this.#cache.size;
  }
}
