import { OPTION, type OptionDef } from '../catalogue.js';
import type { DsnConfig } from '../dsn.js';
import type { DsnModel } from '../dsn-model.js';
import type { OptionReader } from '../option-reader.js';
import { maskedAsWritten } from '../masked-url.js';
import { hasScheme, parseHttpUrl } from '../values/http-url.js';

export type UpstreamOptions = Pick<
  DsnConfig,
  'upstream' | 'credentialOrigins' | 'healthUri' | 'modelFile'
>;

/**
 * Where requests go, and which origins may receive the DSN's credentials: the upstream's, those
 * AllowedHosts lists, and those of the Model file's endpoints (the driver would send the
 * credential to each of them).
 */
export function resolveUpstream(
  options: OptionReader,
  model: DsnModel | undefined,
): UpstreamOptions {
  const fromModel = model !== undefined && options.text(OPTION.HostName) === undefined;
  const upstream = fromModel ? modelUpstream(options, model) : upstreamUrl(options);
  const credentialOrigins = upstream ? [upstream.origin] : [];
  for (const origin of [
    ...(options.value(OPTION.AllowedHosts) ?? []),
    ...(model?.use?.origins ?? []),
  ]) {
    if (!credentialOrigins.includes(origin)) credentialOrigins.push(origin);
  }
  return {
    upstream,
    credentialOrigins,
    healthUri: options.value(OPTION.HealthURI),
    ...(model?.use ? { modelFile: { ...model.use, givesUpstream: fromModel } } : {}),
  };
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
        `HostName "${maskedAsWritten(host)}" is not an http(s) URL or host name`,
        'write the upstream base URL, e.g. HostName=https://api.example.com/rest/v1',
      );
      return undefined;
    }
    if (refusedUserinfo(upstream, OPTION.HostName, options)) return undefined;
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
    if (refusedUserinfo(sampleUrl, OPTION.RestSamplePath, options)) return undefined;
    upstream = new URL(sampleUrl.origin);
  }
  return baseUrl(upstream);
}

/**
 * Without HostName, the Model file's `#hostname` (a base URL, as HostName), else the origin of its
 * first endpoint; its other origins become AllowedHosts.
 */
function modelUpstream(options: OptionReader, model: DsnModel): URL | undefined {
  if (!model.file) {
    options.error(
      OPTION.RestConfigFile,
      'HostName is missing and the Model file cannot be read (see above), so tokenshim does not know where to forward requests',
      `fix the RestConfigFile path, or add HostName=https://api.example.com to [${options.dsn}]`,
    );
    return undefined;
  }
  const hostname =
    model.file.hostname === undefined ? undefined : parseHttpUrl(model.file.hostname);
  const first = model.file.origins[0];
  const upstream = hostname ?? (first === undefined ? undefined : new URL(first));
  if (!upstream) {
    options.error(
      OPTION.RestConfigFile,
      'HostName is missing and the Model file names no host: its endpoints are paths relative to HostName',
      `add HostName=https://api.example.com (the host the Model file's paths belong to) to [${options.dsn}]`,
    );
    return undefined;
  }
  if (refusedUserinfo(upstream, OPTION.RestConfigFile, options)) return undefined;
  return baseUrl(upstream);
}

function baseUrl(url: URL): URL {
  url.pathname = url.pathname.replace(/\/+$/, '');
  url.search = '';
  url.hash = '';
  return url;
}

/**
 * `https://user:password@api.example.com`: tokenshim forwards to the origin and would drop the
 * user name and password without a word (and print them wherever it shows the URL). Refused, with
 * the options that do send them.
 */
function refusedUserinfo(url: URL, option: OptionDef, options: OptionReader): boolean {
  if (url.username === '' && url.password === '') return false;
  options.error(
    option,
    `${option.name} carries a user name or password (https://user:****@host), which tokenshim would not send`,
    `remove "user:password@" from ${option.name}; for HTTP Basic set AuthenticationMethod=0 with User and Password`,
  );
  return true;
}
