/** RFC 8628 3.2: reading the device authorization response, without sockets. */
import t from 'tap';
import { parseDeviceAuthorization } from '../../../lib/auth/login/device-authorization.js';
import type { LoginError } from '../../../lib/errors.js';

const ctx = {
  dsn: 'tv',
  endpoint: new URL('https://login.example.com/oauth/device/code?x=1'),
  secrets: ['client-secret-value'],
};
const answer = (status: number, body: unknown) => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

t.test('the fields of 3.2, with the defaults it gives', async (t) => {
  t.same(
    parseDeviceAuthorization(
      answer(200, {
        device_code: 'dc',
        user_code: 'WDJB-MJHT',
        verification_uri: 'https://example.com/device',
        verification_uri_complete: 'https://example.com/device?user_code=WDJB-MJHT',
        expires_in: 1800,
        interval: 7,
      }),
      ctx,
    ),
    {
      deviceCode: 'dc',
      userCode: 'WDJB-MJHT',
      verificationUri: 'https://example.com/device',
      verificationUriComplete: 'https://example.com/device?user_code=WDJB-MJHT',
      expiresInSeconds: 1800,
      intervalSeconds: 7,
    },
  );
  t.same(
    parseDeviceAuthorization(
      // Google's spelling, numbers as strings, no interval (3.2: then 5 seconds)
      answer(200, {
        device_code: 'dc',
        user_code: 'ABC',
        verification_url: 'https://www.google.com/device',
        expires_in: '1800',
      }),
      ctx,
    ),
    {
      deviceCode: 'dc',
      userCode: 'ABC',
      verificationUri: 'https://www.google.com/device',
      expiresInSeconds: 1800,
      intervalSeconds: 5,
    },
  );
});

t.test('what the endpoint said, and what to check', async (t) => {
  const cases: [string, ReturnType<typeof answer>, RegExp][] = [
    [
      'an OAuth error',
      answer(401, { error: 'invalid_client', error_description: 'client-secret-value is wrong' }),
      /DSN "tv": DeviceAuthURI \(POST https:\/\/login\.example\.com\/oauth\/device\/code\) answered 401 invalid_client \("\[redacted\] is wrong"\)\. Check ClientID/,
    ],
    [
      'no device code',
      answer(200, { user_code: 'A', verification_uri: 'https://x' }),
      /answered 200 without a device_code, user_code and verification_uri\. Check that DeviceAuthURI is the provider's device authorization endpoint/,
    ],
    ['an HTML page', answer(404, '<html>Not Found</html>'), /answered 404 without a device_code/],
  ];
  for (const [what, res, message] of cases) {
    let error: LoginError | undefined;
    try {
      parseDeviceAuthorization(res, ctx);
    } catch (e) {
      error = e as LoginError;
    }
    t.match(error, { code: 'TOKENSHIM_LOGIN', message }, what);
    t.notMatch(error?.message, 'client-secret-value', `${what}: no secret`);
  }
});
