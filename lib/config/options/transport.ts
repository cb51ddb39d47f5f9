import { OPTION } from '../catalogue.js';
import type { DsnConfig, OutboundProxy } from '../dsn.js';
import type { OptionReader } from '../option-reader.js';

export type TransportOptions = Pick<
  DsnConfig,
  | 'outboundProxy'
  | 'validateServerCertificate'
  | 'trustStore'
  | 'hostNameInCertificate'
  | 'connectTimeoutSeconds'
  | 'headersTimeoutSeconds'
  | 'bodyTimeoutSeconds'
>;

/** How tokenshim connects to the upstream and the token endpoint: proxy, TLS and timeouts. */
export function resolveTransport(options: OptionReader): TransportOptions {
  return {
    outboundProxy: outboundProxy(options),
    validateServerCertificate: options.value(OPTION.ValidateServerCertificate),
    trustStore: options.value(OPTION.TrustStore),
    hostNameInCertificate: options.value(OPTION.HostNameInCertificate),
    connectTimeoutSeconds: options.value(OPTION.ConnectTimeout),
    headersTimeoutSeconds: options.value(OPTION.HeadersTimeout),
    bodyTimeoutSeconds: options.value(OPTION.BodyTimeout),
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
