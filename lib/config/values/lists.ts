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
