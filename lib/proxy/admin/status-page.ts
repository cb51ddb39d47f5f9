import type { DsnStatusView, StatusView } from './status-view.js';

/**
 * /_tokenshim/status as HTML: one self-contained page (inline CSS, no script, no external
 * resources), so it renders behind any firewall and under a strict Content-Security-Policy.
 * A pure function of the status data: every value is escaped, none is trusted.
 */
export function renderStatusPage(view: StatusView): string {
  const now = Date.parse(view.generatedAt);
  const problems = view.dsns.filter((d) => PROBLEM_STATES.has(d.token.state)).length;
  const summary =
    view.dsns.length === 0
      ? 'No DSNs are configured.'
      : problems === 0
        ? `${view.dsns.length} DSN${view.dsns.length === 1 ? '' : 's'}, all healthy`
        : `${problems} of ${view.dsns.length} DSN${view.dsns.length === 1 ? '' : 's'} need attention`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>tokenshim status</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>tokenshim</h1>
  <p class="summary${problems > 0 ? ' bad' : ''}" data-testid="summary">${esc(summary)}</p>
  <p class="meta">version ${esc(view.tokenshim.version)} &middot; as of <time datetime="${esc(view.generatedAt)}">${esc(formatTime(view.generatedAt))}</time> &middot; <a href="status?format=json">JSON</a> &middot; <a href="metrics">metrics</a></p>
</header>
<main>
${view.dsns.map((d) => dsnCard(d, now)).join('\n')}
</main>
</body>
</html>
`;
}

const PROBLEM_STATES: ReadonlySet<string> = new Set(['needs-login', 'failing', 'expired']);

const STATE_LABELS: Readonly<Record<DsnStatusView['token']['state'], string>> = {
  valid: 'token valid',
  refreshing: 'refreshing',
  empty: 'no token yet',
  expired: 'token expired',
  failing: 'token requests failing',
  'needs-login': 'needs login',
  static: 'static credential',
  none: 'no authentication',
};

function dsnCard(d: DsnStatusView, now: number): string {
  const t = d.token;
  const rows: [string, string][] = [
    ['Method', esc(d.method)],
    ['Upstream', d.upstream === null ? '<span class="none">not set</span>' : code(d.upstream)],
  ];
  if (d.gatewayUrl !== null) rows.push(['Gateway', code(d.gatewayUrl)]);
  if (t.state !== 'static' && t.state !== 'none') {
    rows.push([
      'Valid until',
      t.expiresAt === null
        ? '<span class="none">&ndash;</span>'
        : `<time datetime="${esc(t.expiresAt)}">${esc(formatTime(t.expiresAt))}</time> <span class="rel">(${esc(relative(Date.parse(t.expiresAt), now))})</span>`,
    ]);
    rows.push([
      'Refreshed',
      t.refreshedAt === null
        ? '<span class="none">never</span>'
        : `<time datetime="${esc(t.refreshedAt)}">${esc(formatTime(t.refreshedAt))}</time> <span class="rel">(${esc(relative(Date.parse(t.refreshedAt), now))})</span>`,
    ]);
    rows.push(['Token requests', String(t.tokenRequests)]);
  }
  const r = d.requests;
  rows.push([
    'Requests',
    `<span data-testid="requests-total">${r.total}</span>` +
      (r.total === 0
        ? ''
        : ` <span class="classes">${(['2xx', '3xx', '4xx', '5xx'] as const)
            .filter((c) => r.byStatusClass[c] > 0)
            .map((c) => `<span class="c${c[0]}">${c} ${r.byStatusClass[c]}</span>`)
            .join(' ')}</span>`) +
      (r.replays > 0 ? ` <span class="rel">${r.replays} replayed after 401</span>` : '') +
      (r.retries > 0 ? ` <span class="rel">${r.retries} retries after 429/503</span>` : ''),
  ]);
  // the token engine's needs-login message already names the command; say it once
  const action =
    t.state === 'needs-login' && !(t.lastError ?? '').includes('tokenshim login')
      ? `<p class="action">Run <code>tokenshim login ${esc(d.name)}</code> or paste a new RefreshToken into the config.</p>`
      : '';
  return `<section class="dsn state-${esc(t.state)}" data-dsn="${esc(d.name)}">
  <h2>${esc(d.name)} <span class="badge" data-testid="state">${esc(STATE_LABELS[t.state] ?? t.state)}</span></h2>
  <dl>
${rows.map(([k, v]) => `    <dt>${esc(k)}</dt><dd>${v}</dd>`).join('\n')}
  </dl>
${t.lastError === null ? '' : `  <p class="error" data-testid="last-error">${esc(t.lastError)}</p>\n`}${t.unsaved === null ? '' : `  <p class="error" data-testid="unsaved">${esc(t.unsaved)}</p>\n`}${action}</section>`;
}

function code(text: string): string {
  return `<code>${esc(text)}</code>`;
}

/** `2026-01-01 10:00:00 UTC`: the server's clock, stated as such (the page has no script). */
function formatTime(isoTime: string): string {
  return `${isoTime.slice(0, 10)} ${isoTime.slice(11, 19)} UTC`;
}

function relative(at: number, now: number): string {
  const s = Math.round((at - now) / 1000);
  const abs = Math.abs(s);
  const amount =
    abs < 60
      ? `${abs} s`
      : abs < 3600
        ? `${Math.round(abs / 60)} min`
        : abs < 86400 * 2
          ? `${Math.floor(abs / 3600)} h ${Math.round((abs % 3600) / 60)} min`
          : `${Math.round(abs / 86400)} days`;
  return s >= 0 ? `in ${amount}` : `${amount} ago`;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const STYLE = `
:root { color-scheme: light; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1f2328; background: #f6f8fa; }
header { padding: 20px 32px 12px; background: #fff; border-bottom: 1px solid var(--line); }
h1 { margin: 0; font-size: 22px; letter-spacing: -0.01em; }
.summary { margin: 4px 0 0; font-size: 15px; color: var(--ok); font-weight: 600; }
.summary.bad { color: var(--bad); }
.meta { margin: 2px 0 0; color: var(--muted); font-size: 12px; }
.meta a { color: inherit; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); align-items: start; gap: 16px; padding: 20px 32px 32px; }
.dsn { background: #fff; border: 1px solid var(--line); border-left: 5px solid var(--muted); border-radius: 8px; padding: 14px 18px; }
.dsn.state-valid, .dsn.state-refreshing, .dsn.state-static, .dsn.state-none { border-left-color: var(--ok); }
.dsn.state-empty { border-left-color: var(--warn); }
.dsn.state-expired, .dsn.state-failing, .dsn.state-needs-login { border-left-color: var(--bad); }
h2 { margin: 0 0 8px; font-size: 17px; display: flex; align-items: center; gap: 10px; }
.badge { font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px; background: #ddf4e4; color: var(--ok); }
.state-empty .badge { background: #fff1c2; color: var(--warn); }
.state-expired .badge, .state-failing .badge, .state-needs-login .badge { background: #ffe0e0; color: var(--bad); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 14px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
code { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: #f0f2f4; padding: 1px 4px; border-radius: 4px; }
.rel, .none { color: var(--muted); }
.rel { white-space: nowrap; }
.classes span { font-size: 12px; margin-right: 4px; padding: 0 5px; border-radius: 4px; background: #f0f2f4; }
.classes .c2 { color: var(--ok); } .classes .c4 { color: var(--warn); } .classes .c5 { color: var(--bad); }
.error { margin: 10px 0 0; padding: 8px 10px; background: #fff5f5; border: 1px solid #ffcecb; border-radius: 6px; color: var(--bad); overflow-wrap: anywhere; }
.action { margin: 8px 0 0; font-weight: 600; }
`;
