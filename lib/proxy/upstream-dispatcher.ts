import { readFileSync } from 'node:fs';
import { checkServerIdentity, rootCertificates, type PeerCertificate } from 'node:tls';
import { Agent, EnvHttpProxyAgent, ProxyAgent, type Dispatcher } from 'undici';
import type { DsnConfig } from '../config/dsn.js';
import { ConfigError } from '../errors.js';

export interface UpstreamDispatcherOptions {
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY come from here */
  readonly env: NodeJS.ProcessEnv;
  /** tokenshim's own address: an env proxy pointing back at it is ignored (it would loop) */
  readonly selfPort?: number;
}

/**
 * The dispatcher one DSN's requests go through: an undici Agent, which keeps a keep-alive pool
 * per upstream origin (the DSN's HostName and each AllowedHosts origin), with the DSN's TLS rules
 * and timeouts; a ProxyAgent when ProxyHost is set; an EnvHttpProxyAgent when the environment
 * names a proxy. One per DSN because TLS settings are per DSN; a reload that changes a DSN gets a
 * new one and the old one closes once its requests are done.
 */
export function createUpstreamDispatcher(
  dsn: DsnConfig,
  opts: UpstreamDispatcherOptions,
): Dispatcher {
  const tls = upstreamTls(dsn);
  const common = {
    connect: { ...tls, timeout: dsn.connectTimeoutSeconds * 1000 },
    headersTimeout: dsn.headersTimeoutSeconds * 1000,
    bodyTimeout: dsn.bodyTimeoutSeconds * 1000,
  };
  const proxy = dsn.outboundProxy;
  if (proxy !== undefined) {
    const token =
      proxy.user === undefined
        ? undefined
        : `Basic ${Buffer.from(`${proxy.user}:${proxy.password ?? ''}`).toString('base64')}`;
    return new ProxyAgent({
      ...common,
      uri: `http://${proxy.host.includes(':') ? `[${proxy.host}]` : proxy.host}:${proxy.port}`,
      ...(token === undefined ? {} : { token }),
      requestTls: tls,
    });
  }
  const httpProxy = usableEnvProxy(opts.env.http_proxy ?? opts.env.HTTP_PROXY, opts.selfPort);
  const httpsProxy = usableEnvProxy(opts.env.https_proxy ?? opts.env.HTTPS_PROXY, opts.selfPort);
  if (httpProxy !== undefined || httpsProxy !== undefined) {
    return new EnvHttpProxyAgent({
      ...common,
      requestTls: tls,
      // explicit values so undici does not read process.env behind our back
      httpProxy: httpProxy ?? '',
      httpsProxy: httpsProxy ?? '',
      noProxy: opts.env.no_proxy ?? opts.env.NO_PROXY ?? '',
    });
  }
  return new Agent(common);
}

interface UpstreamTls {
  rejectUnauthorized: boolean;
  ca?: string[];
  checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}

function upstreamTls(dsn: DsnConfig): UpstreamTls {
  const tls: UpstreamTls = { rejectUnauthorized: dsn.validateServerCertificate };
  if (dsn.trustStore !== undefined) {
    let pem: string;
    try {
      pem = readFileSync(dsn.trustStore, 'utf8');
    } catch (e) {
      throw new ConfigError(
        `DSN "${dsn.name}": TrustStore ${dsn.trustStore} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}). ` +
          'Point TrustStore at a readable PEM file holding the CA certificate(s) of the upstream.',
      );
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError(
        `DSN "${dsn.name}": TrustStore ${dsn.trustStore} holds no PEM certificate. ` +
          'Export the CA as PEM (-----BEGIN CERTIFICATE-----); Java keystores (.jks) must be converted.',
      );
    }
    // added to node's bundled roots, so a TrustStore for a private CA does not break public ones
    tls.ca = [...rootCertificates, pem];
  }
  const expected = dsn.hostNameInCertificate;
  if (expected !== undefined) {
    tls.checkServerIdentity = (_host, cert) => checkServerIdentity(expected, cert);
  }
  return tls;
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
