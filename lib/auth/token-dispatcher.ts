import { readFileSync } from 'node:fs';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import type { DsnConfig } from '../config/dsn.js';
import { ConfigError } from '../errors.js';

/**
 * The HTTP client for a DSN's token endpoint: keep-alive, and the DSN's TLS options
 * (ValidateServerCertificate, TrustStore, HostNameInCertificate) and outbound proxy.
 */
export function createTokenDispatcher(dsn: DsnConfig): Dispatcher {
  const tls: { rejectUnauthorized: boolean; ca?: string; servername?: string } = {
    rejectUnauthorized: dsn.validateServerCertificate,
  };
  if (dsn.trustStore !== undefined) {
    try {
      tls.ca = readFileSync(dsn.trustStore, 'utf8');
    } catch (e) {
      throw new ConfigError(
        `DSN "${dsn.name}": TrustStore ${dsn.trustStore} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}). ` +
          'Point TrustStore at a PEM file of CA certificates.',
      );
    }
    if (!tls.ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError(
        `DSN "${dsn.name}": TrustStore ${dsn.trustStore} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"). ` +
          'Convert a Java keystore with `keytool -exportcert -rfc` and point TrustStore at the PEM file.',
      );
    }
  }
  if (dsn.hostNameInCertificate !== undefined) tls.servername = dsn.hostNameInCertificate;
  const timeouts = {
    connectTimeout: dsn.connectTimeoutSeconds * 1000,
    headersTimeout: dsn.headersTimeoutSeconds * 1000,
    bodyTimeout: dsn.headersTimeoutSeconds * 1000,
    keepAliveTimeout: 30_000,
  };
  const proxy = dsn.outboundProxy;
  if (proxy) {
    const auth =
      proxy.user === undefined
        ? {}
        : {
            token: `Basic ${Buffer.from(`${proxy.user}:${proxy.password ?? ''}`).toString('base64')}`,
          };
    return new ProxyAgent({
      uri: `http://${proxy.host}:${proxy.port}`,
      ...auth,
      requestTls: tls,
      ...timeouts,
    });
  }
  return new Agent({ connect: tls, ...timeouts });
}
