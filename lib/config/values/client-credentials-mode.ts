import type { CertificateClientAuth, ClientCredentialsMode } from '../dsn.js';
import type { OptionParser } from './parser.js';

/** The RFC 8705 methods, by the names providers register them under (IANA's registry). */
export const CERTIFICATE_CLIENT_AUTH: readonly CertificateClientAuth[] = Object.freeze([
  'tls_client_auth',
  'self_signed_tls_client_auth',
]);

/** The client proves itself with its TLS certificate (RFC 8705 2), not with a secret. */
export function isCertificateClientAuth(
  mode: ClientCredentialsMode,
): mode is CertificateClientAuth {
  return typeof mode === 'string';
}

/**
 * ClientCredentialsMode: DataDirect's 0 to 3 (how the client secret is sent), or an RFC 8705
 * method by its registered name, any case: the TLS client certificate (ClientCertificate)
 * authenticates the client and the secret is not sent.
 */
export const clientCredentialsMode: OptionParser<ClientCredentialsMode, 'enum'> = {
  type: 'enum',
  parse(value, ctx) {
    const v = value.trim().toLowerCase();
    if (/^[0-3]$/.test(v)) return Number(v) as 0 | 1 | 2 | 3;
    const method = CERTIFICATE_CLIENT_AUTH.find((m) => m === v);
    if (method !== undefined) return method;
    ctx.error(
      `${ctx.option}=${value} is not 0, 1, 2, 3, tls_client_auth or self_signed_tls_client_auth`,
      `write a number from 0 to 3 (how ClientSecret is sent), or tls_client_auth or ` +
        'self_signed_tls_client_auth (RFC 8705: ClientCertificate authenticates the client)',
    );
    return undefined;
  },
};
