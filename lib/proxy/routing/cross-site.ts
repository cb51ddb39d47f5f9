import { CrossSiteRequestError } from '../../errors.js';
import { findHeader } from '../../http/raw-headers.js';

/**
 * A web page on any site can make the browser send requests to 127.0.0.1: `fetch()`, a form post,
 * an `<img>`. Host is then `127.0.0.1`, so the DNS rebinding check passes, and without this check
 * the request would go upstream with the DSN's credential (and `Access-Control-Allow-Origin: *`
 * from the upstream would let the page read the answer). Browsers say where a request comes from:
 *
 * - `Origin` (RFC 6454 7; the Fetch standard sends it on every CORS request and every POST): a
 *   request that names an origin is answered only when that origin is on the list;
 * - `Sec-Fetch-Site` (Fetch Metadata): `none` is the user's own navigation (address bar,
 *   bookmark), `same-origin` a page of tokenshim's own origin; `same-site` and `cross-site` are
 *   other pages, including no-cors requests (`<img>`, `<script>`) that carry no Origin.
 *
 * Clients that are not browsers (Qlik's REST connector, curl, scripts) send neither header.
 */
export interface CrossSiteVerdict {
  /** the request's Origin, when it is on the allow-list: answers get CORS headers for it */
  readonly allowedOrigin?: string;
  readonly refusal?: CrossSiteRequestError;
}

const ALLOWED_FETCH_SITES = new Set(['none', 'same-origin']);
const NOTHING_TO_SAY: CrossSiteVerdict = Object.freeze({});

/**
 * `allowed`: the origins (as URL#origin spells them) whose pages may call; `what` names the
 * route for the message (`DSN "crm"`, `the admin route /_tokenshim/reload`), `dsn` the DSN whose
 * AllowedOrigins would admit the page, if any.
 */
export function judgeCrossSite(
  rawHeaders: readonly string[],
  allowed: readonly string[],
  what: { readonly route: string; readonly dsn?: string },
): CrossSiteVerdict {
  const origin = findHeader(rawHeaders, 'origin');
  if (origin !== undefined) {
    if (allowed.includes(origin)) return { allowedOrigin: origin };
    return { refusal: new CrossSiteRequestError({ ...what, origin }) };
  }
  const site = findHeader(rawHeaders, 'sec-fetch-site');
  if (site !== undefined && !ALLOWED_FETCH_SITES.has(site.trim().toLowerCase())) {
    return { refusal: new CrossSiteRequestError({ ...what, fetchSite: site }) };
  }
  return NOTHING_TO_SAY;
}
