import { OPTION } from '../catalogue.js';
import type { ClientCertificateFiles, DsnConfig, OutboundProxy } from '../dsn.js';
import type { OptionReader } from '../option-reader.js';

export type TransportOptions = Pick<
  DsnConfig,
  | 'outboundProxy'
  | 'validateServerCertificate'
  | 'trustStore'
  | 'hostNameInCertificate'
  | 'clientCertificate'
  | 'connectTimeoutSeconds'
  | 'headersTimeoutSeconds'
  | 'bodyTimeoutSeconds'
  | 'responseHeaderLimitBytes'
>;

/**
 * How tokenshim connects to the upstream and the token endpoint: proxy, TLS (which servers to
 * trust, which certificate to present) and timeouts.
 */
export function resolveTransport(options: OptionReader): TransportOptions {
  return {
    outboundProxy: outboundProxy(options),
    validateServerCertificate: options.value(OPTION.ValidateServerCertificate),
    trustStore: options.value(OPTION.TrustStore),
    hostNameInCertificate: options.value(OPTION.HostNameInCertificate),
    clientCertificate: clientCertificate(options),
    connectTimeoutSeconds: options.value(OPTION.ConnectTimeout),
    headersTimeoutSeconds: options.value(OPTION.HeadersTimeout),
    bodyTimeoutSeconds: options.value(OPTION.BodyTimeout),
    responseHeaderLimitBytes: options.value(OPTION.ResponseHeaderLimit),
  };
}

/** ProxyHost turns the outbound proxy on; ProxyPort and the rest only describe it. */
function outboundProxy(options: OptionReader): OutboundProxy | undefined {
  const port = options.value(OPTION.ProxyPort);
  const host = options.value(OPTION.ProxyHost);
  if (host === undefined) return undefined;
  const user = options.value(OPTION.ProxyUser);
  const password = options.value(OPTION.ProxyPassword);
  return {
    host,
    port,
    ...(user === undefined ? {} : { user }),
    ...(password === undefined ? {} : { password }),
  };
}

/** ClientCertificate turns the client certificate on; the key file and password complete it. */
function clientCertificate(options: OptionReader): ClientCertificateFiles | undefined {
  const file = options.value(OPTION.ClientCertificate);
  if (file === undefined) return undefined;
  const keyFile = options.value(OPTION.ClientCertificateKey);
  const password = options.value(OPTION.ClientCertificatePassword);
  return {
    file,
    ...(keyFile === undefined ? {} : { keyFile }),
    ...(password === undefined ? {} : { password }),
  };
}
