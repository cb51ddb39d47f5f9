import t from 'tap';
import { maskedAsWritten, maskedUrl } from '../../lib/config/masked-url.js';

t.test('credentials in a URL are masked, everything else is shown as written', async (t) => {
  const cases: [string, string][] = [
    ['https://login.example.com/oauth/token', 'https://login.example.com/oauth/token'],
    [
      'https://mkto.example.com/identity/oauth/token?grant_type=client_credentials&client_id=cid&client_secret=verysecret99',
      'https://mkto.example.com/identity/oauth/token?grant_type=client_credentials&client_id=cid&client_secret=****99',
    ],
    [
      'https://api.example.com/v1?Access_Token=tok-abcdef12&page=2&apikey=k',
      'https://api.example.com/v1?Access_Token=****12&page=2&apikey=****',
    ],
    ['https://svc:p%40ssw0rd-long@api.example.com/x', 'https://svc:****ng@api.example.com/x'],
    ['https://sk_live_0123456789@api.example.com/', 'https://****89@api.example.com/'],
    [
      'http://api.example.com:8080/a%20b?q=a+b#frag',
      'http://api.example.com:8080/a%20b?q=a+b#frag',
    ],
  ];
  for (const [url, shown] of cases) {
    t.equal(maskedUrl(url), shown, url);
    t.equal(maskedUrl(new URL(url)), shown, `${url} as a URL`);
  }
  t.equal(maskedUrl('not a url ?client_secret=abc'), 'not a url ?client_secret=[redacted]');
  t.equal(
    maskedUrl('https://svc:pw-long-secret@api.example.com:99999/v1'),
    'https://svc:****et@api.example.com:99999/v1',
    'a URL that does not parse still has its userinfo masked',
  );
  t.equal(maskedUrl('svc:pw-long-secret@api example.com'), 'svc:****et@api example.com');
  t.equal(maskedUrl('key-0123456789@bad host'), '****89@bad host');
  t.equal(
    maskedAsWritten('ftp://u:pw-long-secret@a.example?x=1&client_secret=abc'),
    'ftp://u:****et@a.example?x=1&client_secret=[redacted]',
    'as written: not normalised, still masked',
  );
});
