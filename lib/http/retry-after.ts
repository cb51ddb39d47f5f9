/**
 * RFC 9110 10.2.3: Retry-After is delay-seconds or an HTTP-date; a date in the past means now.
 * Milliseconds to wait, or undefined when absent or unreadable. Read of token endpoints and of
 * upstreams alike.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // every HTTP-date form (IMF-fixdate, RFC 850, asctime) starts with the day's name
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
