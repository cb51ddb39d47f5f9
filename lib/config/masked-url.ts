import { isSecretParam, scrubSecretsInText } from '../log/scrub-text.js';
import { maskSecret, type ValueOrigin } from './dsn.js';

/**
 * A URL as tokenshim shows it (check, the serve startup lines, config problems): the password of
 * its userinfo, a userinfo without a password (an API key as user name), and the values of
 * credential query parameters (client_secret, access_token...) masked; everything else as written.
 * Values the config took from `${env:}` and the like are the caller's to redact (they can sit
 * anywhere, the host included).
 */
export function maskedUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return maskedAsWritten(String(url));
  }
  // `user:pw@host` without a scheme parses as the scheme `user:` and an opaque path
  if (parsed.host === '') return maskedAsWritten(String(url));
  const { username, password } = parsed;
  const userinfo =
    username === '' && password === ''
      ? ''
      : password === ''
        ? `${maskSecret(decodeURIComponent(username))}@`
        : `${username}:${maskSecret(decodeURIComponent(password))}@`;
  return `${parsed.protocol}//${userinfo}${parsed.host}${parsed.pathname}${maskedQuery(parsed.search)}${parsed.hash}`;
}

/**
 * A URL option's text exactly as written (a value that does not parse, quoted back to its author),
 * masked as maskedUrl masks: the password of a `user:password@` before the host, whether or not a
 * scheme comes first, and credential parameters.
 */
export function maskedAsWritten(text: string): string {
  const userinfoMasked = text.replace(
    /^((?:[a-z][a-z0-9+.-]*:)?\/\/|)([^/?#@\s]*)@/i,
    (_, lead: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return colon === -1
        ? `${lead}${maskSecret(userinfo)}@`
        : `${lead}${userinfo.slice(0, colon)}:${maskSecret(userinfo.slice(colon + 1))}@`;
    },
  );
  return scrubSecretsInText(userinfoMasked);
}

/** `?a=1&client_secret=xyz` → `?a=1&client_secret=****`, pairs and their encoding kept as sent. */
function maskedQuery(search: string): string {
  if (search.length <= 1) return search;
  const pairs = search
    .slice(1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair;
      const name = pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // a malformed escape: judge the name as written
      }
      if (!isSecretParam(decoded)) return pair;
      return `${name}=${maskSecret(pair.slice(eq + 1))}`;
    });
  return `?${pairs.join('&')}`;
}

/**
 * A URL option (TokenURI, HostName) as a message may quote it: the reference as written when the
 * value came from `${env:}` or the like (the reference is safe to print, the value is a secret),
 * else the URL masked. A method prefix written before the reference (`GET ${env:X}`) is left out.
 */
export function shownUrlOption(url: URL, origin: ValueOrigin | undefined): string {
  return origin?.reference?.replace(/^(?:GET|POST)\s+/i, '') ?? maskedUrl(url);
}
