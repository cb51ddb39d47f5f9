/**
 * What the token-manager fault tests share: a refresh-token DSN pointed at the fault token server,
 * managers on an injected clock closed in teardown, a file store whose writes can be made to fail
 * like a full disk, and a bounded wait for background work (the clock is fake; sockets are not).
 */
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import type { Test } from 'tap';
import {
  FileTokenStore,
  NODE_FILE_STORE_IO,
  type FileStoreIo,
} from '../../../lib/auth/stores/file-store.js';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import { TokenManager, type TokenManagerOptions } from '../../../lib/auth/token/token-manager.js';
import { FakeClock } from '../../../lib/clock.js';
import type { DsnConfig } from '../../../lib/config/dsn.js';
import {
  FAULT_CLIENT,
  startFaultTokenServer,
  type FaultTokenServer,
} from '../../fixtures/fault-token-server.js';
import { loopbackDispatcher } from '../../fixtures/loopback-dispatcher.js';
import { makeDsn } from '../../fixtures/make-dsn.js';
import { tempDir } from '../../fixtures/temp-config.js';

export function faultDsn(
  ts: FaultTokenServer,
  refreshToken: string | undefined,
  o: Partial<Omit<DsnConfig, 'method'>> = {},
): DsnConfig {
  return makeDsn({
    name: 'crm',
    method: 54,
    grantType: 'refresh_token',
    clientId: FAULT_CLIENT.id,
    clientSecret: FAULT_CLIENT.secret,
    refreshToken,
    tokenEndpoint: { method: 'POST', url: new URL(ts.tokenEndpoint) },
    ...o,
  });
}

export function faultManager(
  t: Test,
  opts: Omit<TokenManagerOptions, 'dispatcher'> & {
    dispatcher?: TokenManagerOptions['dispatcher'];
  },
): TokenManager {
  const m = new TokenManager({
    clock: new FakeClock(Date.now()),
    random: () => 0.5,
    dispatcher: opts.dispatcher ?? loopbackDispatcher(t),
    ...opts,
  });
  t.teardown(() => m.close());
  return m;
}

/** What most fault tests start from: the token server, a fake clock, a manager on a memory store. */
export interface FaultRig {
  readonly ts: FaultTokenServer;
  readonly clock: FakeClock;
  readonly store: MemoryTokenStore;
  /** the refresh token the manager's chain started from */
  readonly rt: string;
  readonly m: TokenManager;
}

export async function faultRig(
  t: Test,
  o: {
    accessTokenSeconds?: number;
    dsn?: Partial<Omit<DsnConfig, 'method'>>;
    onEvent?: TokenManagerOptions['onEvent'];
  } = {},
): Promise<FaultRig> {
  const ts = await startFaultTokenServer(
    t,
    o.accessTokenSeconds === undefined ? {} : { accessTokenSeconds: o.accessTokenSeconds },
  );
  const clock = new FakeClock(Date.now());
  const store = new MemoryTokenStore();
  const rt = ts.issueRefreshToken();
  const m = faultManager(t, {
    dsn: faultDsn(ts, rt, o.dsn),
    store,
    clock,
    ...(o.onEvent === undefined ? {} : { onEvent: o.onEvent }),
  });
  return { ts, clock, store, rt, m };
}

/** A token file in a temp dir whose token writes fail with the kernel's ENOSPC while `full`. */
export function fillableStore(t: Test): { store: FileTokenStore; path: string; full: boolean } {
  const path = join(tempDir(t).dir, 'tokens.json');
  const state = { full: false };
  const io: FileStoreIo = {
    ...NODE_FILE_STORE_IO,
    open: ((p: string, flags: string, mode?: number) =>
      state.full && p.endsWith('.tmp')
        ? fsp.open('/dev/full', 'w')
        : fsp.open(p, flags, mode)) as typeof fsp.open,
  };
  const store = new FileTokenStore(path, { io });
  return Object.assign(state, { store, path });
}

/** Waits (bounded by turns of the event loop, not by time) until `condition` holds. */
export async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, i < 100 ? 0 : 2));
  }
  throw new Error(`gave up waiting until ${what}`);
}
