import { createDsnDispatcher } from '../net/dsn-dispatcher.js';
import type { CredentialProvider } from '../auth/credential.js';
import { createCredentialProvider } from '../auth/provider.js';
import type { DsnConfig } from '../config/dsn.js';
import type { Logger } from '../log/logger.js';
import { DsnBinding, dsnFingerprint } from './dsn-binding.js';
import type { RequestActivity } from './request-activity.js';
import type { RouteTable } from './routing/route-table.js';

/** What a reload did, by DSN name (the answer of POST /_tokenshim/reload and the SIGHUP log line). */
export interface ReloadResult {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

export interface DsnBindingsOptions {
  /** the token engine per DSN; default lib/auth/provider.ts createCredentialProvider */
  readonly createProvider?:
    ((dsn: DsnConfig) => CredentialProvider | Promise<CredentialProvider>) | undefined;
  readonly logger: Logger;
  readonly configPath?: string | undefined;
  /** HTTP(S)_PROXY / NO_PROXY for upstream calls */
  readonly env: NodeJS.ProcessEnv;
  /** the proxy's in-flight count, which every binding's requests join */
  readonly activity: RequestActivity;
  /** the proxy's own port: an HTTP_PROXY pointing at it is not used for upstream calls */
  readonly selfPort: () => number;
}

/**
 * Turns DSN configs into DsnBindings (a provider and an upstream dispatcher each), keeping the
 * bindings of DSNs a reload did not change, so their tokens and connections survive it.
 */
export class DsnBindings {
  readonly #opts: DsnBindingsOptions;

  constructor(opts: DsnBindingsOptions) {
    this.#opts = opts;
  }

  /** Bindings for a DSN list, reusing the unchanged ones of `old`; on failure none is left open. */
  async bindAll(dsns: readonly DsnConfig[], old: RouteTable | undefined): Promise<DsnBinding[]> {
    const made: DsnBinding[] = [];
    const out: DsnBinding[] = [];
    try {
      for (const dsn of dsns) {
        const prior = old?.byName(dsn.name);
        if (prior && prior.dsn.name === dsn.name && prior.fingerprint === dsnFingerprint(dsn)) {
          out.push(prior);
          continue;
        }
        const binding = await this.#bind(dsn);
        made.push(binding);
        out.push(binding);
      }
    } catch (e) {
      await Promise.allSettled(made.map((b) => b.retire()));
      throw e;
    }
    return out;
  }

  async #bind(dsn: DsnConfig): Promise<DsnBinding> {
    const { createProvider, logger, configPath } = this.#opts;
    const dispatcher = createDsnDispatcher(dsn, {
      purpose: 'upstream',
      env: this.#opts.env ?? process.env,
      selfPort: this.#opts.selfPort(),
    });
    try {
      const provider = await (createProvider
        ? createProvider(dsn)
        : createCredentialProvider(dsn, {
            logger,
            ...(configPath === undefined ? {} : { configPath }),
          }));
      return new DsnBinding(dsn, provider, dispatcher, this.#opts.activity);
    } catch (e) {
      await dispatcher.close().catch(() => undefined);
      throw e;
    }
  }
}

/**
 * What replacing `old` by `next` means: each DSN added, removed, changed (a new binding under the
 * same name, names compared case-insensitively as routing does) or unchanged (the same binding),
 * and the old bindings to retire once their in-flight requests end.
 */
export function reloadDiff(
  old: RouteTable,
  next: readonly DsnBinding[],
): { readonly result: ReloadResult; readonly retired: readonly DsnBinding[] } {
  const kept = new Set(next);
  const result: ReloadResult = { added: [], removed: [], changed: [], unchanged: [] };
  for (const b of next) {
    const prior = old.byName(b.dsn.name);
    if (!prior) result.added.push(b.dsn.name);
    else if (prior === b) result.unchanged.push(b.dsn.name);
    else result.changed.push(b.dsn.name);
  }
  const retired = old.bindings.filter((b) => !kept.has(b));
  for (const b of retired) {
    if (!next.some((n) => n.dsn.name.toLowerCase() === b.dsn.name.toLowerCase())) {
      result.removed.push(b.dsn.name);
    }
  }
  return { result, retired };
}
