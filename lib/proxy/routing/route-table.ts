import type { DsnBinding } from '../dsn-binding.js';

/** Where a forward-proxy request for one origin goes. */
export interface ForwardOrigin {
  readonly binding: DsnBinding;
  /** the origin to call (https when the DSN's HostName is https, whatever the client spoke) */
  readonly origin: string;
  /** Host header for it */
  readonly host: string;
}

/**
 * The bindings of one configuration, indexed for the hot path: by DSN name, case-insensitively
 * (ODBC DSN names are), and by authority for the forward proxy. Immutable; a reload builds a new
 * table and swaps it in.
 */
export class RouteTable {
  readonly bindings: readonly DsnBinding[];
  readonly #byName = new Map<string, DsnBinding>();
  readonly #byAuthority = new Map<string, ForwardOrigin>();
  /** findings while indexing (two DSNs claiming one name or origin), for the log */
  readonly conflicts: string[] = [];

  constructor(bindings: readonly DsnBinding[]) {
    this.bindings = bindings;
    for (const b of bindings) {
      const key = b.dsn.name.toLowerCase();
      const prior = this.#byName.get(key);
      if (prior) {
        this.conflicts.push(
          `DSN "${b.dsn.name}" has the same name as "${prior.dsn.name}" (names ignore case); the first one is served`,
        );
        continue;
      }
      this.#byName.set(key, b);
    }
    for (const b of bindings) {
      for (const origin of b.credentialOrigins) {
        const url = new URL(origin);
        const key = url.host;
        const prior = this.#byAuthority.get(key);
        if (prior) {
          if (prior.binding !== b) {
            this.conflicts.push(
              `DSN "${b.dsn.name}" and DSN "${prior.binding.dsn.name}" both claim ${url.host}; forward-proxy requests for it use "${prior.binding.dsn.name}"`,
            );
          }
          continue;
        }
        this.#byAuthority.set(key, { binding: b, origin: url.origin, host: url.host });
      }
    }
  }

  byName(name: string): DsnBinding | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  /** `authority` as the client wrote it, lowercased, default port removed */
  byAuthority(authority: string): ForwardOrigin | undefined {
    return this.#byAuthority.get(authority);
  }

  get names(): string[] {
    return this.bindings.map((b) => b.dsn.name);
  }

  get origins(): string[] {
    return [...new Set(this.bindings.flatMap((b) => b.credentialOrigins))];
  }
}
