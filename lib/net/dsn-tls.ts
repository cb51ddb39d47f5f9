import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import type { PeerCertificate, SecureContext } from 'node:tls';
import type { DsnConfig } from '../config/dsn.js';
import { ConfigError } from '../errors.js';
import { readClientCertificate } from './client-certificate.js';

/** The options of a DSN that decide which servers it trusts. */
export type DsnTlsOptions = Pick<
  DsnConfig,
  | 'name'
  | 'validateServerCertificate'
  | 'trustStore'
  | 'hostNameInCertificate'
  | 'upstream'
  | 'clientCertificate'
>;

/** undici `connect` / `requestTls` options: the same for the token endpoint and the upstream. */
export interface DsnTls {
  readonly rejectUnauthorized: boolean;
  /**
   * Set only with a TrustStore (or injected roots) or a client certificate; node's default store
   * applies otherwise. Built once per dispatcher: `ca`, `cert` and `key` options would be parsed
   * again per connection (and node ignores them beside a secureContext anyway).
   */
  readonly secureContext?: SecureContext;
  readonly checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}

export interface DsnTlsDeps {
  /** where NODE_EXTRA_CA_CERTS is read from; default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The CAs trusted without a TrustStore, in place of node's default store. Tests inject a CA
   * standing in for a public one; production leaves it unset.
   */
  readonly systemRoots?: readonly string[];
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * The TLS rules of one DSN, for every connection it makes (token endpoint, HostName,
 * AllowedHosts):
 *
 * - `TrustStore` ADDS its CAs to the ones node trusts anyway, so a private CA for the upstream
 *   does not make a public token endpoint (Entra ID, Google) untrusted.
 * - `HostNameInCertificate` is the name HostName's server must present in its certificate, in
 *   place of HostName's own host; the SNI sent is unchanged, so a server or load balancer that
 *   picks its certificate or backend by SNI still sees the host it was asked for. Other hosts
 *   (a token endpoint elsewhere, AllowedHosts) are checked against their own names: the option
 *   describes HostName's certificate, and a public token endpoint never presents that name.
 * - `ValidateServerCertificate=0` turns verification off (test servers only).
 * - `ClientCertificate` is presented to every server that asks for one during the handshake: the
 *   upstream and TokenURI (RFC 8705 mutual TLS); a server that does not ask never sees it. An
 *   outbound proxy never does: its own TLS options (`proxyTls`) leave it out.
 */
export function dsnTls(dsn: DsnTlsOptions, deps: DsnTlsDeps = {}): DsnTls {
  const trusted =
    dsn.trustStore === undefined ? undefined : readTrustStore(dsn.name, dsn.trustStore);
  const roots =
    deps.systemRoots ?? (trusted === undefined ? undefined : defaultRoots(deps.env ?? process.env));
  const ca = roots === undefined ? undefined : [...roots, ...(trusted ?? [])];
  const client =
    dsn.clientCertificate === undefined
      ? undefined
      : readClientCertificate(dsn.name, dsn.clientCertificate);
  const expected = dsn.hostNameInCertificate;
  const certificateHost = dsn.upstream === undefined ? undefined : bareHost(dsn.upstream.hostname);
  return {
    rejectUnauthorized: dsn.validateServerCertificate,
    ...(ca === undefined && client === undefined
      ? {}
      : {
          secureContext: tls.createSecureContext({
            ...(ca === undefined ? {} : { ca }),
            ...(client === undefined ? {} : { cert: client.cert, key: client.key }),
          }),
        }),
    ...(expected === undefined || certificateHost === undefined
      ? {}
      : {
          checkServerIdentity: (host: string, cert: PeerCertificate) =>
            tls.checkServerIdentity(bareHost(host) === certificateHost ? expected : host, cert),
        }),
  };
}

/**
 * The certificates of a TrustStore file, as PEM. A PEM bundle (what `keytool -exportcert -rfc`
 * and openssl write) or a single DER certificate (Windows' certificate export wizard writes DER
 * .cer files by default) are accepted; anything else stops startup with the fix.
 */
function readTrustStore(dsn: string, path: string): string[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ConfigError(
      `DSN "${dsn}": TrustStore ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}). ` +
        'Point TrustStore at a readable PEM file holding the CA certificate(s) that signed the server certificates.',
    );
  }
  const blocks = bytes.toString('latin1').match(PEM_CERTIFICATE);
  if (blocks === null) {
    const der = parseCertificate(bytes);
    if (der !== undefined) return [der.toString()];
    throw new ConfigError(
      `DSN "${dsn}": TrustStore ${path} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"). ` +
        'Convert a Java keystore with `keytool -exportcert -rfc` and point TrustStore at the PEM file.',
    );
  }
  blocks.forEach((block, i) => {
    if (parseCertificate(block) === undefined) {
      throw new ConfigError(
        `DSN "${dsn}": TrustStore ${path}: certificate ${i + 1} of ${blocks.length} is damaged and cannot be parsed. ` +
          'Export the CA certificate again as PEM and point TrustStore at the new file.',
      );
    }
  });
  return blocks;
}

function parseCertificate(data: string | Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(data);
  } catch {
    return undefined;
  }
}

/**
 * What node trusts when no `ca` is given: its bundled roots plus NODE_EXTRA_CA_CERTS (how a
 * corporate TLS-inspecting proxy's CA is usually added). An explicit `ca` replaces that store,
 * so it is rebuilt here; node >= 22.15 says exactly what it holds.
 */
function defaultRoots(env: NodeJS.ProcessEnv): readonly string[] {
  const getCACertificates = (tls as { getCACertificates?: (type: 'default') => string[] })
    .getCACertificates;
  if (getCACertificates !== undefined) return getCACertificates('default');
  const extraFile = env.NODE_EXTRA_CA_CERTS;
  if (!extraFile) return tls.rootCertificates;
  try {
    const extra = readFileSync(extraFile, 'latin1').match(PEM_CERTIFICATE) ?? [];
    return [...tls.rootCertificates, ...extra];
  } catch {
    // node warned about an unreadable NODE_EXTRA_CA_CERTS at startup and went on without it
    return tls.rootCertificates;
  }
}

/** `[::1]` and `::1`, `Example.COM.` and `example.com`: one host. */
function bareHost(host: string): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return h.toLowerCase().replace(/\.$/, '');
}
