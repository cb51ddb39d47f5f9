import { request, type Dispatcher } from 'undici';
import type { CredentialProvider, AttachedCredential } from '../auth/credential.js';
import { createCredentialProvider, type CredentialProviderDeps } from '../auth/provider.js';
import { redactSecrets } from '../auth/redact-secrets.js';
import { describeTokenStore, type TokenStoreHealth } from '../auth/stores/describe-token-store.js';
import { FileTokenStore } from '../auth/stores/file-store.js';
import { openTokenStore } from '../auth/stores/open-token-store.js';
import type { TokenStore } from '../auth/stores/token-store.js';
import { systemClock, type Clock } from '../clock.js';
import type { DsnConfig } from '../config/dsn.js';
import { CheckTimeoutError, TokenEndpointError, TokenshimError } from '../errors.js';
import { asTokenshimError } from '../http/problem.js';
import { applyQueryCredential } from '../http/query-credential.js';
import { createDsnDispatcher } from '../net/dsn-dispatcher.js';
import { secretsOf } from '../config/secrets.js';
import {
  describeBroadReadAccess,
  ownerOnlyAclCommand,
  type WindowsAclDeps,
} from '../platform/windows-acl.js';

export interface CheckOutcome {
  readonly ok: boolean;
  /** one line a person can act on; never a secret */
  readonly detail: string;
}

export interface OnlineCheckResult {
  readonly dsn: string;
  /** the token could be had (or the DSN needs none) and HealthURI, when set, answered 2xx */
  readonly ok: boolean;
  readonly token: CheckOutcome;
  /** GET HealthURI with the DSN's credential, when HealthURI is set */
  readonly health?: CheckOutcome;
  /** where an OAuth DSN's tokens live, and whether that place answers */
  readonly store?: TokenStoreHealth;
  /** Windows: who else may read the token store file (icacls), and the command that fixes it */
  readonly storeExposure?: { readonly readableBy: string; readonly fix: string };
}

export interface OnlineCheckDeps {
  /** the odbc.ini the DSNs came from (the default token store sits beside it) */
  readonly configPath?: string | undefined;
  /** HTTP(S)_PROXY / NO_PROXY for the token and HealthURI requests; default process.env */
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  /** how long one DSN's token request and health request may take, each; default 30 s */
  readonly timeoutMs?: number;
  readonly createProvider?: (dsn: DsnConfig, deps: CredentialProviderDeps) => CredentialProvider;
  readonly openStore?: (dsn: DsnConfig, configPath: string | undefined) => TokenStore;
  /** the Windows ACL check's seams (platform, icacls), for tests */
  readonly acl?: WindowsAclDeps;
}

/**
 * `tokenshim check` without --offline: one real token request per DSN (ok, or the server's
 * error), GET HealthURI with the credential when it is set, and the token store's reachability.
 * DSNs are checked one after another so their lines come out in config order and a slow
 * provider is visible as such. Never throws for a DSN's failure: that is a result.
 */
export async function checkOnline(
  dsns: readonly DsnConfig[],
  deps: OnlineCheckDeps = {},
): Promise<OnlineCheckResult[]> {
  const results: OnlineCheckResult[] = [];
  for (const dsn of dsns) results.push(await checkDsn(dsn, deps));
  return results;
}

async function checkDsn(dsn: DsnConfig, deps: OnlineCheckDeps): Promise<OnlineCheckResult> {
  const clock = deps.clock ?? systemClock;
  const timeoutMs = deps.timeoutMs ?? 30_000;
  const safe = (text: string): string => redactSecrets(text, secretsOf(dsn));
  const oauth = dsn.effectiveMethod.kind === 'oauth';
  const store = oauth ? (deps.openStore ?? openTokenStore)(dsn, deps.configPath) : undefined;
  let provider: CredentialProvider | undefined;
  let tokenDispatcher: Dispatcher | undefined;
  try {
    const storeHealth = store ? await describeTokenStore(store) : undefined;
    const storeExposure = store ? await exposureOf(store, deps.acl) : undefined;
    let credential: AttachedCredential | undefined;
    let token: CheckOutcome;
    try {
      if (oauth) {
        tokenDispatcher = createDsnDispatcher(dsn, {
          purpose: 'token-endpoint',
          env: deps.env ?? process.env,
        });
      }
      provider = (deps.createProvider ?? createCredentialProvider)(dsn, {
        ...(store ? { store } : {}),
        ...(tokenDispatcher ? { dispatcher: tokenDispatcher } : {}),
        ...(deps.configPath === undefined ? {} : { configPath: deps.configPath }),
        ...(deps.clock ? { clock: deps.clock } : {}),
      });
      if (provider.perUser) {
        token = {
          ok: true,
          detail: 'tokens are issued per user (TokenParams with {user}); not fetched',
        };
      } else {
        credential = await withTimeout(provider.credential(), timeoutMs, clock, dsn.name);
        token = { ok: true, detail: describeToken(dsn, provider) };
      }
    } catch (e) {
      // the token endpoint's own answer (status, OAuth error, advice per error) says most
      const cause = (e as { cause?: unknown }).cause;
      const shown = cause instanceof TokenEndpointError ? cause : asTokenshimError(e, dsn.name);
      token = { ok: false, detail: safe(shown.message) };
    }
    const health =
      dsn.healthUri === undefined
        ? undefined
        : await checkHealth(dsn, dsn.healthUri, credential, deps, safe);
    return {
      dsn: dsn.name,
      ok: token.ok && (health?.ok ?? true) && (storeHealth?.reachable ?? true),
      token,
      ...(health ? { health } : {}),
      ...(storeHealth ? { store: storeHealth } : {}),
      ...(storeExposure ? { storeExposure } : {}),
    };
  } finally {
    await provider?.close().catch(() => undefined);
    await tokenDispatcher?.close().catch(() => undefined);
    // file stores are shared per path within the process and close as a no-op; redis ones quit
    await store?.close().catch(() => undefined);
  }
}

/**
 * A token store file on Windows inherits its folder's ACL unless tokenshim created it (then it
 * gets owner, SYSTEM and Administrators only): under C:\ProgramData every local user may read the
 * refresh tokens in it. Elsewhere the file's mode (0600, set by tokenshim) says enough.
 */
async function exposureOf(
  store: TokenStore,
  acl: WindowsAclDeps | undefined,
): Promise<OnlineCheckResult['storeExposure']> {
  if (!(store instanceof FileTokenStore)) return undefined;
  const readableBy = await describeBroadReadAccess(store.path, acl);
  return readableBy === undefined
    ? undefined
    : { readableBy, fix: ownerOnlyAclCommand(store.path) };
}

function describeToken(dsn: DsnConfig, provider: CredentialProvider): string {
  const status = provider.status();
  switch (status.state) {
    case 'none':
      return 'no authentication (forward only)';
    case 'static':
      return `static credential (AuthenticationMethod=${dsn.effectiveMethod.code}); not checked by a token request`;
    default: {
      const until =
        status.expiresAt === undefined
          ? ''
          : `, valid until ${new Date(status.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
      return `ok: token obtained${until}`;
    }
  }
}

/**
 * HealthURI, the way DataDirect's driver tests a connection: one GET. The credential goes only
 * to the DSN's own origins (HostName, AllowedHosts), as for every proxied request.
 */
async function checkHealth(
  dsn: DsnConfig,
  uri: URL,
  credential: AttachedCredential | undefined,
  deps: OnlineCheckDeps,
  safe: (text: string) => string,
): Promise<CheckOutcome> {
  const where = `GET ${uri.origin}${uri.pathname}`;
  const allowed = dsn.credentialOrigins.includes(uri.origin) || dsn.upstream?.origin === uri.origin;
  const attach = credential !== undefined && allowed;
  let dispatcher: Dispatcher | undefined;
  try {
    dispatcher = createDsnDispatcher(dsn, { purpose: 'upstream', env: deps.env ?? process.env });
    const headers: Record<string, string> = { accept: '*/*', 'user-agent': 'tokenshim check' };
    for (const [name, value] of attach ? credential.headers : [])
      headers[name.toLowerCase()] = value;
    const path = attach
      ? applyQueryCredential(`${uri.pathname}${uri.search}`, credential)
      : `${uri.pathname}${uri.search}`;
    const res = await request(`${uri.origin}${path}`, {
      method: 'GET',
      headers,
      dispatcher,
      headersTimeout: deps.timeoutMs ?? 30_000,
      bodyTimeout: deps.timeoutMs ?? 30_000,
    });
    await res.body.dump();
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const note =
      credential !== undefined && !allowed
        ? ' (sent without credentials: HealthURI is not on HostName or AllowedHosts)'
        : '';
    return { ok, detail: `${where}: HTTP ${res.statusCode}${note}` };
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).name;
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    const why = e instanceof TokenshimError ? e.message : `${cause ?? code}`;
    return { ok: false, detail: safe(`${where}: ${why}`) };
  } finally {
    await dispatcher?.close().catch(() => undefined);
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, clock: Clock, dsn: string): Promise<T> {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = clock.setTimeout(() => reject(new CheckTimeoutError(dsn, ms)), ms);
      }),
    ]);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}

/** The lines `tokenshim check` prints for the online results, under each DSN. */
export function formatOnlineResults(results: readonly OnlineCheckResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`[${r.dsn}] ${r.ok ? 'ok' : 'FAILED'}`);
    lines.push(`  token:       ${r.token.ok ? '' : 'FAILED: '}${r.token.detail}`);
    if (r.health) lines.push(`  health:      ${r.health.ok ? '' : 'FAILED: '}${r.health.detail}`);
    if (r.store) {
      lines.push(
        `  token store: ${r.store.description}, ${r.store.reachable ? 'reachable' : `UNREACHABLE: ${r.store.error ?? ''}`}`,
      );
    }
    if (r.storeExposure) {
      lines.push(
        `               WARNING: ${r.storeExposure.readableBy}, who can then use its refresh tokens. Fix: ${r.storeExposure.fix}`,
      );
    }
  }
  return lines;
}
