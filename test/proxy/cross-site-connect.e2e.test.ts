/**
 * The same refusal inside a decrypted CONNECT: Chromium uses tokenshim as its proxy and trusts
 * tokenshim's CA (as a user who imported it would; here --ignore-certificate-errors stands in), and
 * a page of another site posts a form to, and fetches from, the HTTPS API a DSN intercepts.
 */
import t from 'tap';
import { pageFetch, pageHost, pagePostsForm } from '../fixtures/attack-pages.js';
import { launchChromium, NEEDS_CHROMIUM } from '../fixtures/chromium.js';
import { startRig } from './connect-rig.js';

t.test(
  'Chromium through an intercepted CONNECT: a page of another site cannot use the DSN',
  { skip: NEEDS_CHROMIUM },
  async (t) => {
    const rig = await startRig(t);
    const pagePort = await pageHost(t);
    const browser = await launchChromium(t, [
      '--host-resolver-rules=MAP evil.test 127.0.0.1',
      `--proxy-server=http://127.0.0.1:${rig.proxy.server.port}`,
      // the page's own site directly; the API (localhost) through tokenshim
      '--proxy-bypass-list=evil.test;<-loopback>',
      '--ignore-certificate-errors',
    ]);
    const api = `https://localhost:${rig.upstream.port}/rest/v1`;

    const page = await browser.newPage();
    await page.goto(`http://evil.test:${pagePort}/`);
    t.equal(await pagePostsForm(page, `${api}/payments`), 403, 'the form post is refused');
    const again = await browser.newPage();
    await again.goto(`http://evil.test:${pagePort}/`);
    t.match(await pageFetch(again, `${api}/customers`), /^blocked: TypeError/);
    // the browser asks the refusal's origin for its favicon itself (Sec-Fetch-Site: same-origin)
    t.same(
      rig.upstream.seen.filter((r) => r.url !== '/favicon.ico'),
      [],
      'nothing the page asked for reached the upstream, with or without the token',
    );

    const own = await browser.newPage();
    const typed = await own.goto(`${api}/customers`);
    t.equal(typed?.status(), 200, 'the user typing the URL still gets the data');
    t.match(JSON.parse((await typed?.text()) ?? '{}'), {
      url: '/rest/v1/customers',
      authorization: `Bearer ${rig.proxy.stub('api').currentToken}`,
    });
  },
);
