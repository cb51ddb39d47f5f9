import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import type { StatusView } from '../../../lib/proxy/admin/status-view.js';
import { launchChromium, NEEDS_CHROMIUM } from '../../fixtures/chromium.js';
import { startOperationsScenario, type OperationsScenario } from './operations-scenario.js';

/** where the screenshot goes, for a person to look at */
export const SCREENSHOT = join(tmpdir(), 'tokenshim-status.png');

/** Traffic that gives every DSN something to show. */
async function exercise(s: OperationsScenario): Promise<void> {
  for (const path of [
    '/crm/a',
    '/crm/b?x=1',
    '/crm/broken',
    '/mkto/v1/leads.json',
    '/erp/x',
    '/static/y',
    '/down/z',
  ]) {
    const res = await request(`${s.proxy.url}${path}`);
    await res.body.dump();
  }
}

t.test(
  'status as JSON: each DSN with method, upstream, token state and request counts',
  async (t) => {
    const s = await startOperationsScenario(t);
    await exercise(s);
    const res = await request(`${s.proxy.url}/_tokenshim/status`, {
      headers: { accept: 'application/json' },
    });
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], 'application/json');
    const view = (await res.body.json()) as StatusView;
    t.match(view.generatedAt, /^\d{4}-\d\d-\d\dT/);
    t.same(
      view.dsns.map((d) => d.name),
      ['crm', 'mkto', 'erp', 'static', 'down'],
    );
    const by = new Map(view.dsns.map((d) => [d.name, d]));
    t.match(by.get('crm'), {
      method: '54 OAuth2-RefreshToken',
      upstream: `${s.upstream.origin}/crm/v1`,
      gatewayUrl: `${s.proxy.url}/crm`,
      token: { state: 'valid', lastError: null, tokenRequests: 1 },
      requests: { total: 3, byStatusClass: { '2xx': 2, '5xx': 1 } },
    });
    const crm = by.get('crm')!;
    t.ok(Date.parse(crm.token.expiresAt!) > Date.parse(crm.token.refreshedAt!));
    t.ok(crm.token.expiresInSeconds! > 3500);
    t.match(by.get('erp')?.token, { state: 'needs-login', lastError: /invalid_grant/ });
    t.match(by.get('static')?.token, { state: 'static', expiresAt: null });
    t.match(by.get('down')?.token.state, /failing|empty|expired/);
    t.match(by.get('down')?.token.lastError, /down|token endpoint/);

    const viaQuery = await request(`${s.proxy.url}/_tokenshim/status?format=json`);
    t.equal(viaQuery.headers['content-type'], 'application/json');
    await viaQuery.body.dump();
    const html = await request(`${s.proxy.url}/_tokenshim/status`, {
      headers: { accept: 'text/html,*/*' },
    });
    t.match(html.headers['content-type'], /^text\/html/);
    t.match(html.headers['content-security-policy'], /default-src 'none'/);
    await html.body.dump();
  },
);

t.test(
  'status page in headless Chromium: one card per DSN, states, errors, counts; screenshot taken',
  { skip: NEEDS_CHROMIUM },
  async (t) => {
    const s = await startOperationsScenario(t);
    await exercise(s);
    const context = await launchChromium(t, [], { viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    const response = await page.goto(`${s.proxy.url}/_tokenshim/status`);
    t.equal(response?.status(), 200);
    t.equal(await page.title(), 'tokenshim status');

    const cards = page.locator('section.dsn');
    t.equal(await cards.count(), 5);
    t.same(await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-dsn'))), [
      'crm',
      'mkto',
      'erp',
      'static',
      'down',
    ]);
    const card = (name: string) => page.locator(`section.dsn[data-dsn="${name}"]`);
    t.equal(await card('crm').getByTestId('state').innerText(), 'token valid');
    t.equal(await card('erp').getByTestId('state').innerText(), 'needs login');
    t.equal(await card('static').getByTestId('state').innerText(), 'static credential');
    t.match(await card('erp').getByTestId('last-error').innerText(), /invalid_grant/);
    t.match(await card('erp').innerText(), /Run `tokenshim login erp`/);
    t.equal(await card('crm').getByTestId('requests-total').innerText(), '3');
    t.match(
      await card('crm').innerText(),
      /Valid until\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (59|60) min\)/,
    );
    t.match(await card('crm').innerText(), /Upstream\s+http:\/\/127\.0\.0\.1:\d+\/crm\/v1/);
    t.equal(
      await card('crm').getByTestId('last-error').count(),
      0,
      'a healthy DSN shows no error box',
    );
    t.match(await page.getByTestId('summary').innerText(), /2 of 5 DSNs need attention/);
    // the state is visible as colour too: the failing card's border is red, the healthy one green
    const border = (name: string) =>
      card(name).evaluate(
        (e) =>
          (
            globalThis as unknown as {
              getComputedStyle(el: unknown): { borderLeftColor: string };
            }
          ).getComputedStyle(e).borderLeftColor,
      );
    t.equal(await border('erp'), 'rgb(207, 34, 46)');
    t.equal(await border('crm'), 'rgb(26, 127, 55)');
    t.same(errors, [], 'no console errors (the CSP allows everything the page uses)');

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    t.ok(existsSync(SCREENSHOT), `screenshot at ${SCREENSHOT}`);
  },
);
