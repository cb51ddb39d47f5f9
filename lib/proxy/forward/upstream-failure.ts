import type { DsnConfig } from '../../config/dsn.js';
import { CODES, UpstreamError } from '../../errors.js';

// node's and OpenSSL's codes for a certificate the upstream presented and we refused
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Turns an undici/node failure of one upstream request into the error a client is shown. */
export function describeUpstreamFailure(
  err: unknown,
  dsn: DsnConfig,
  origin: string,
): UpstreamError {
  const code = causeCode(err);
  const name = dsn.name;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new UpstreamError('timeout', {
      dsn: name,
      origin,
      why: `did not accept a connection within ${dsn.connectTimeoutSeconds} s`,
      hint: 'Check HostName and the network (ProxyHost if a proxy is needed), or raise ConnectTimeout.',
      cause: err,
    });
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    const headers = code === 'UND_ERR_HEADERS_TIMEOUT';
    return new UpstreamError('timeout', {
      dsn: name,
      origin,
      why: headers
        ? `did not answer within ${dsn.headersTimeoutSeconds} s`
        : `stopped sending its response for ${dsn.bodyTimeoutSeconds} s`,
      hint: `Retry later, or raise ${headers ? 'HeadersTimeout' : 'BodyTimeout'} for slow endpoints.`,
      cause: err,
    });
  }
  if (code === 'UND_ERR_HEADERS_OVERFLOW') {
    const limit = dsn.responseHeaderLimitBytes;
    return new UpstreamError('headers-too-large', {
      dsn: name,
      origin,
      why: `answered with response headers larger than ${limit} bytes (ResponseHeaderLimit)`,
      hint:
        `Raise the limit, e.g. ResponseHeaderLimit=${Math.max(limit * 4, 65_536)}, or have the API ` +
        'send fewer or shorter headers (large cookies and policy headers are the usual cause).',
      cause: err,
    });
  }
  // an alert is the upstream refusing us, typically the client certificate it requires
  if (code !== undefined && /^ERR_SSL_.*ALERT/.test(code)) {
    return new UpstreamError('tls', {
      dsn: name,
      origin,
      why: `refused the TLS handshake (${code})`,
      hint:
        dsn.clientCertificate === undefined
          ? 'It may require a client certificate: set ClientCertificate (RFC 8705 mutual TLS).'
          : 'It did not accept ClientCertificate: present the certificate it has registered, signed by a CA it trusts.',
      cause: err,
    });
  }
  if (
    code !== undefined &&
    (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'))
  ) {
    return new UpstreamError('tls', {
      dsn: name,
      origin,
      why: `failed the TLS handshake (${code})`,
      hint:
        'Put the CA that signed its certificate in TrustStore (a PEM file), set HostNameInCertificate ' +
        'if the certificate names another host, or (for tests only) ValidateServerCertificate=0.',
      cause: err,
    });
  }
  if (dsn.outboundProxy !== undefined && /proxy/i.test(errorMessage(err))) {
    return new UpstreamError('proxy', {
      dsn: name,
      origin,
      why: `could not be reached through the proxy ${dsn.outboundProxy.host}:${dsn.outboundProxy.port}`,
      hint: 'Check ProxyHost, ProxyPort, ProxyUser and ProxyPassword.',
      cause: err,
    });
  }
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return new UpstreamError('unreachable', {
      dsn: name,
      origin,
      why: `is unreachable (${code})`,
      hint: 'Check HostName and PortNumber, and that the server is running and reachable from here.',
      cause: err,
    });
  }
  return new UpstreamError('reset', {
    dsn: name,
    origin,
    why: `closed the connection before answering (${code ?? errorName(err)})`,
    hint: 'Retry the request; if it keeps failing, check the upstream server and any proxy in between.',
    cause: err,
  });
}

function causeCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR_ABORTED')
      return code;
    e = (e as { cause?: unknown }).cause;
  }
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'unknown error';
}

/** `SocketError UND_ERR_SOCKET <- Error ECONNRESET`: what failed, for the log (no messages: they may quote a URL). */
export function causeText(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 4; depth++) {
    parts.push(
      `${e.name}${(e as { code?: string }).code ? ` ${(e as { code?: string }).code}` : ''}`,
    );
    e = e.cause;
  }
  return parts.join(' <- ');
}

/** Why an upstream request was aborted: its client went away (logged, never shown). */
export class ClientClosedError extends Error {
  override readonly name = 'ClientClosedError';
  readonly code = CODES.CLIENT_CLOSED;
  constructor() {
    super('the client closed the connection');
  }
}
