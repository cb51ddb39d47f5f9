import t from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { loadConfig } from '../../lib/config/load.js';

// TokenScheme (Zoho's `Authorization: Zoho-oauthtoken`) and TokenRequestFormat=query (Zoho, GitHub)
const base = 'AuthenticationMethod=50;AccessToken=tok-0123456789;HostName=https://api.example.com';

t.test('TokenScheme replaces the word before the token', async (t) => {
  const { dsns, problems } = await loadConfig({
    connect: `${base};TokenScheme=Zoho-oauthtoken`,
    env: {},
  });
  t.same(problems, []);
  t.equal(dsns[0]!.tokenScheme, 'Zoho-oauthtoken');
  const provider = createCredentialProvider(dsns[0]!);
  t.same((await provider.credential()).headers, [
    ['Authorization', 'Zoho-oauthtoken tok-0123456789'],
  ]);
});

t.test('TokenScheme also applies to a header of another name', async (t) => {
  const { dsns } = await loadConfig({
    connect: `${base};TokenPlacement=header:X-Api-Token;TokenScheme=Token`,
    env: {},
  });
  const provider = createCredentialProvider(dsns[0]!);
  t.same((await provider.credential()).headers, [['X-Api-Token', 'Token tok-0123456789']]);
});

t.test('TokenScheme that is not one word is an error naming the option', async (t) => {
  const { dsns, problems } = await loadConfig({
    connect: `${base};TokenScheme={Zoho oauthtoken}`,
    env: {},
  });
  t.same(dsns, []);
  t.match(problems, [
    {
      severity: 'error',
      key: 'TokenScheme',
      message: /not one word/,
      fix: /TokenScheme=Zoho-oauthtoken/,
    },
  ]);
});

t.test('TokenScheme with a query placement warns that it does nothing', async (t) => {
  const { dsns, problems } = await loadConfig({
    connect: `${base};TokenPlacement=query:access_token;TokenScheme=Bearer`,
    env: {},
  });
  t.equal(dsns.length, 1);
  t.match(problems, [{ severity: 'warning', key: 'TokenScheme', message: /no effect/ }]);
});

t.test('TokenRequestFormat accepts query and names the three values when wrong', async (t) => {
  const ok = await loadConfig({ connect: `${base};TokenRequestFormat=QUERY`, env: {} });
  t.equal(ok.dsns[0]!.tokenRequestFormat, 'query');
  const bad = await loadConfig({ connect: `${base};TokenRequestFormat=xml`, env: {} });
  t.match(bad.problems, [
    { severity: 'error', key: 'TokenRequestFormat', message: /not form, json or query/ },
  ]);
});
