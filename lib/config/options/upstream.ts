import { OPTION } from '../catalogue.js';
import type { DsnConfig } from '../dsn.js';
import type { OptionReader } from '../option-reader.js';
import { hasScheme, parseHttpUrl } from '../values/http-url.js';

export type UpstreamOptions = Pick<DsnConfig, 'upstream' | 'allowedOrigins' | 'healthUri'>;

/** Where requests go, and which origins may receive the DSN's credentials. */
export function resolveUpstream(options: OptionReader): UpstreamOptions {
  const upstream = upstreamUrl(options);
  const allowedOrigins = upstream ? [upstream.origin] : [];
  for (const origin of options.value(OPTION.AllowedHosts) ?? []) {
    if (!allowedOrigins.includes(origin)) allowedOrigins.push(origin);
  }
  return { upstream, allowedOrigins, healthUri: options.value(OPTION.HealthURI) };
}

/**
 * HostName is a base URL, or a bare host (https, unless PortNumber=80 says http). Without it,
 * the origin of RestSamplePath, as DataDirect does. No trailing slash, query or fragment: paths
 * of requests are appended to it.
 */
function upstreamUrl(options: OptionReader): URL | undefined {
  const port = options.value(OPTION.PortNumber);
  const host = options.text(OPTION.HostName);
  let upstream: URL | undefined;
  if (host !== undefined) {
    upstream = parseHttpUrl(hasScheme(host) ? host : `${port === 80 ? 'http' : 'https'}://${host}`);
    if (!upstream) {
      options.error(
        OPTION.HostName,
        `HostName "${host}" is not an http(s) URL or host name`,
        'write the upstream base URL, e.g. HostName=https://api.example.com/rest/v1',
      );
      return undefined;
    }
    if (port !== undefined && upstream.port === '') upstream.port = String(port);
  } else {
    // DataDirect's connection-string examples quote it: RestSamplePath='sample_path'
    const sample = options.text(OPTION.RestSamplePath)?.replace(/^'(.*)'$/, '$1');
    const sampleUrl = sample === undefined ? undefined : parseHttpUrl(sample);
    if (!sampleUrl) {
      options.error(
        OPTION.HostName,
        'HostName is missing, so tokenshim does not know where to forward requests',
        `add HostName=https://api.example.com to [${options.dsn}]`,
      );
      return undefined;
    }
    upstream = new URL(sampleUrl.origin);
  }
  upstream.pathname = upstream.pathname.replace(/\/+$/, '');
  upstream.search = '';
  upstream.hash = '';
  return upstream;
}
