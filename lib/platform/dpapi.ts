/**
 * Windows DPAPI (CryptProtectData): a secret encrypted with a key Windows keeps for one account,
 * so a `${dpapi:...}` value in a config file is useless on another machine or to another user.
 *
 * @primno/dpapi ships prebuilt Windows binaries and is an optional dependency loaded only on
 * win32: installing tokenshim elsewhere never needs it, and `serve` without DPAPI values never
 * loads it. Behind the Dpapi interface, so both branches are tested on any platform.
 */

export interface Dpapi {
  protect(plain: Buffer): Buffer;
  unprotect(blob: Buffer): Buffer;
}

/**
 * CurrentUser: only the account that ran `tokenshim protect` can decrypt (run it as the service's
 * account). LocalMachine: any process on this machine can, which protects against copying the
 * file elsewhere, not against other local users.
 */
export type DpapiScope = 'CurrentUser' | 'LocalMachine';

/** Mixed into every blob so a DPAPI blob made by another program is not taken for tokenshim's. */
const ENTROPY = Buffer.from('tokenshim dpapi value v1', 'utf8');

export class DpapiUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DpapiUnavailableError';
  }
}

interface DpapiBindings {
  protectData(data: Uint8Array, entropy: Uint8Array | null, scope: DpapiScope): Uint8Array;
  unprotectData(data: Uint8Array, entropy: Uint8Array | null, scope: DpapiScope): Uint8Array;
}

export interface DpapiDeps {
  readonly platform?: NodeJS.Platform;
  /** loads @primno/dpapi's bindings; replaced in tests */
  readonly load?: () => Promise<{ bindings: DpapiBindings; supported: boolean }>;
}

const loadPrimno = async (): Promise<{ bindings: DpapiBindings; supported: boolean }> => {
  const module = await import('@primno/dpapi');
  return { bindings: module.Dpapi, supported: module.isPlatformSupported };
};

export async function openDpapi(scope: DpapiScope, deps: DpapiDeps = {}): Promise<Dpapi> {
  const platform = deps.platform ?? process.platform;
  if (platform !== 'win32') {
    throw new DpapiUnavailableError(
      `DPAPI exists only on Windows (this is ${platform}): \${dpapi:...} values are read on the Windows machine and by the account that made them`,
    );
  }
  let loaded;
  try {
    loaded = await (deps.load ?? loadPrimno)();
  } catch (e) {
    throw new DpapiUnavailableError(
      'the DPAPI module (@primno/dpapi, an optional dependency) is not installed: reinstall tokenshim on this Windows machine without --omit=optional',
      { cause: e },
    );
  }
  if (!loaded.supported) {
    throw new DpapiUnavailableError(
      'the DPAPI module (@primno/dpapi) has no binary for this Windows architecture',
    );
  }
  const { bindings } = loaded;
  return {
    protect: (plain) => Buffer.from(bindings.protectData(plain, ENTROPY, scope)),
    unprotect: (blob) => Buffer.from(bindings.unprotectData(blob, ENTROPY, scope)),
  };
}
