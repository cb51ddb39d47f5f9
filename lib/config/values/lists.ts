import { hasScheme, parseHttpUrl } from './http-url.js';
import { list } from './parser.js';

/** RefreshOnStatus=401,403: statuses that mean "the upstream refused the token". */
export const httpErrorStatuses = list({
  parse(part) {
    const n = Number(part);
    return Number.isInteger(n) && n >= 400 && n <= 599 ? n : undefined;
  },
  isNot: 'an HTTP error status',
  fix: 'list statuses such as 401,403',
});

/** AllowedHosts: origins as `https://host[:port]`; a bare host means https. */
export const origins = list({
  parse(part) {
    return parseHttpUrl(hasScheme(part) ? part : `https://${part}`)?.origin;
  },
  isNot: 'a host or origin',
  fix: 'list origins such as https://files.example.com',
});

/**
 * AllowedOrigins: the web origins (`https://qlik.example.com`) whose pages may call this DSN
 * through tokenshim. An origin is compared with the browser's `Origin` header byte for byte, so it
 * is written as a browser writes it: scheme, host, and a port only when not the default. `*` and
 * `null` are refused: the first would let every page use the credential, and any page can send
 * the second (from a sandboxed iframe).
 */
export const browserOrigins = list({
  parse(part) {
    if (part === '*' || part.toLowerCase() === 'null') return undefined;
    const url = parseHttpUrl(hasScheme(part) ? part : `https://${part}`);
    if (!url || url.username !== '' || url.password !== '') return undefined;
    if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
      return undefined;
    }
    return url.origin;
  },
  isNot: 'a web origin such as https://qlik.example.com (no path; * and null are never allowed)',
  fix: 'list each origin whose pages may call this DSN, e.g. AllowedOrigins=https://qlik.example.com',
});
