import type { DsnConfig } from '../../lib/config/dsn.js';
import {
  startServer,
  type StartServerOptions,
  type TokenshimServer,
} from '../../lib/proxy/server.js';
import { allAdminRoutes } from '../fixtures/admin-routes.js';
import { StubProvider, type StubProviderOptions } from '../fixtures/stub-provider.js';

export interface ProxyUnderTest {
  readonly server: TokenshimServer;
  /** the stub provider of each DSN, by name (the latest one after a reload) */
  readonly stubs: Map<string, StubProvider>;
  stub(name: string): StubProvider;
}

/**
 * tokenshim's proxy on 127.0.0.1, port 0, with a StubProvider per DSN and every admin route,
 * closed in teardown.
 * `stubOptions` picks each DSN's stub behaviour by name.
 */
export async function startProxy(
  t: { teardown(fn: () => unknown): void },
  dsns: readonly DsnConfig[],
  opts: Partial<StartServerOptions> & { stubOptions?: Record<string, StubProviderOptions> } = {},
): Promise<ProxyUnderTest> {
  const stubs = new Map<string, StubProvider>();
  const { stubOptions = {}, ...rest } = opts;
  const server = await startServer({
    port: 0,
    env: {},
    adminRoutes: allAdminRoutes(),
    createProvider: (dsn) => {
      const stub = new StubProvider(dsn, stubOptions[dsn.name]);
      stubs.set(dsn.name, stub);
      return stub;
    },
    ...rest,
    dsns,
  });
  t.teardown(() => server.close({ drainMs: 0 }));
  return {
    server,
    stubs,
    stub: (name) => {
      const s = stubs.get(name);
      if (!s) throw new Error(`no stub for DSN ${name}`);
      return s;
    },
  };
}
