import { Agent, EnvHttpProxyAgent, ProxyAgent, type Dispatcher } from 'undici';
import type { DsnConfig } from '../config/dsn.js';
import { dsnTls, type DsnTlsOptions } from './dsn-tls.js';

/** Who the dispatcher talks to; it picks the timeouts and nothing else. */
export type DsnDispatcherPurpose = 'token-endpoint' | 'upstream';

export interface DsnDispatcherOptions {
  readonly purpose: DsnDispatcherPurpose;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY (lower-case first) and NODE_EXTRA_CA_CERTS come from here */
  readonly env: NodeJS.ProcessEnv;
  /** tokenshim's own port: an env proxy pointing back at it is ignored (it would loop) */
  readonly selfPort?: number;
  /** for tests: the CAs standing in for node's public roots (lib/net/dsn-tls.ts) */
  readonly systemRoots?: readonly string[];
}

export type DsnTransportOptions = DsnTlsOptions &
  Pick<
    DsnConfig,
    | 'outboundProxy'
    | 'connectTimeoutSeconds'
    | 'headersTimeoutSeconds'
    | 'bodyTimeoutSeconds'
    | 'responseHeaderLimitBytes'
  >;

export interface DsnTimeouts {
  readonly connectMs: number;
  readonly headersMs: number;
  /** longest silence while a response body arrives */
  readonly bodyMs: number;
  /** how long an idle connection is kept; undefined: undici's (4 s, or the server's Keep-Alive hint) */
  readonly keepAliveMs?: number;
}

/**
 * A token response is one small JSON document sent right behind its headers, so the token
 * endpoint gets HeadersTimeout for its body too: BodyTimeout (300 s by default) is sized for large
 * upstream downloads, and every request waiting for the token would wait that long with it.
 */
const TOKEN_ENDPOINT_TIMEOUTS = (dsn: DsnTransportOptions): DsnTimeouts => ({
  connectMs: dsn.connectTimeoutSeconds * 1000,
  headersMs: dsn.headersTimeoutSeconds * 1000,
  bodyMs: dsn.headersTimeoutSeconds * 1000,
  // per-user DSNs (impersonation) fetch one token per user as users arrive, seconds apart; this
  // lets those requests share a TLS connection and stays under providers' idle timeouts (~1 min)
  keepAliveMs: 30_000,
});

const UPSTREAM_TIMEOUTS = (dsn: DsnTransportOptions): DsnTimeouts => ({
  connectMs: dsn.connectTimeoutSeconds * 1000,
  headersMs: dsn.headersTimeoutSeconds * 1000,
  bodyMs: dsn.bodyTimeoutSeconds * 1000,
});

export function dsnTimeouts(dsn: DsnTransportOptions, purpose: DsnDispatcherPurpose): DsnTimeouts {
  return purpose === 'token-endpoint' ? TOKEN_ENDPOINT_TIMEOUTS(dsn) : UPSTREAM_TIMEOUTS(dsn);
}

/**
 * The one way a DSN's options become an undici dispatcher, for its token endpoint and for its
 * upstream alike: an Agent (a keep-alive pool per origin) with the DSN's TLS rules; a ProxyAgent
 * when ProxyHost is set; an EnvHttpProxyAgent when the environment names a proxy (corporate
 * networks set HTTPS_PROXY for every program, token requests included). One per DSN and purpose,
 * because TLS settings are per DSN; a reload that changes a DSN gets new ones.
 */
export function createDsnDispatcher(
  dsn: DsnTransportOptions,
  opts: DsnDispatcherOptions,
): Dispatcher {
  const tls = dsnTls(dsn, {
    env: opts.env,
    ...(opts.systemRoots === undefined ? {} : { systemRoots: opts.systemRoots }),
  });
  const t = dsnTimeouts(dsn, opts.purpose);
  const common = {
    connect: { ...tls, timeout: t.connectMs },
    headersTimeout: t.headersMs,
    bodyTimeout: t.bodyMs,
    maxHeaderSize: dsn.responseHeaderLimitBytes,
    ...(t.keepAliveMs === undefined ? {} : { keepAliveTimeout: t.keepAliveMs }),
  };
  // through a proxy, `connect` reaches the proxy and `requestTls` the server behind the tunnel
  const tunnelled = {
    ...common,
    requestTls: { ...tls, timeout: t.connectMs },
    proxyTls: { timeout: t.connectMs },
  };
  const proxy = dsn.outboundProxy;
  if (proxy !== undefined) {
    const token =
      proxy.user === undefined
        ? undefined
        : `Basic ${Buffer.from(`${proxy.user}:${proxy.password ?? ''}`).toString('base64')}`;
    return new ProxyAgent({
      ...tunnelled,
      // an IPv6 ProxyHost is a bare address in the config and needs brackets in a URL
      uri: `http://${proxy.host.includes(':') ? `[${proxy.host}]` : proxy.host}:${proxy.port}`,
      ...(token === undefined ? {} : { token }),
    });
  }
  const httpProxy = usableEnvProxy(opts.env.http_proxy ?? opts.env.HTTP_PROXY, opts.selfPort);
  const httpsProxy = usableEnvProxy(opts.env.https_proxy ?? opts.env.HTTPS_PROXY, opts.selfPort);
  if (httpProxy !== undefined || httpsProxy !== undefined) {
    return new EnvHttpProxyAgent({
      ...tunnelled,
      // explicit values so undici does not read process.env behind our back
      httpProxy: httpProxy ?? '',
      httpsProxy: httpsProxy ?? '',
      noProxy: opts.env.no_proxy ?? opts.env.NO_PROXY ?? '',
    });
  }
  return new Agent(common);
}

function usableEnvProxy(
  value: string | undefined,
  selfPort: number | undefined,
): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (selfPort === undefined) return value;
  try {
    const u = new URL(value.includes('://') ? value : `http://${value}`);
    const loopback =
      u.hostname === 'localhost' || u.hostname.startsWith('127.') || u.hostname === '[::1]';
    if (loopback && Number(u.port || 80) === selfPort) return undefined;
  } catch {
    return value;
  }
  return value;
}
