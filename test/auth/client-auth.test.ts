import t from 'tap';
import {
  clientAuthFor,
  clientIdOnly,
  clientSecretBasic,
  clientSecretPost,
  clientSecretQuery,
  formEncode,
  type TokenRequestParts,
} from '../../lib/auth/client-auth.js';
import { makeDsn } from '../fixtures/make-dsn.js';

function apply(auth: (p: TokenRequestParts) => void): TokenRequestParts {
  const parts: TokenRequestParts = { headers: {}, query: [], body: new Map() };
  auth(parts);
  return parts;
}

/** What an RFC 6749 2.3.1 server does: base64-decode, split at the first colon, form-decode each half. */
function decodeBasicPerRfc(header: string): [string, string] {
  const decoded = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const formDecode = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
  return [formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1))];
}

t.test(
  'client_secret_basic (RFC 6749 2.3.1): id and secret form-encoded before base64',
  async (t) => {
    const secret = 'a+b/c=d:e%f#g h&i';
    const parts = apply(clientSecretBasic('my:client', secret));
    const header = parts.headers['authorization'];
    t.ok(header?.startsWith('Basic '));
    const raw = Buffer.from(header!.slice(6), 'base64').toString();
    t.equal(
      raw,
      'my%3Aclient:a%2Bb%2Fc%3Dd%3Ae%25f%23g+h%26i',
      'every reserved character is escaped',
    );
    t.same(
      decodeBasicPerRfc(header!),
      ['my:client', secret],
      'a decoding server gets the secret back',
    );
    t.same(parts.query, []);
    t.equal(parts.body.size, 0, 'nothing in the body');
  },
);

t.test('formEncode is application/x-www-form-urlencoded (space as +)', async (t) => {
  t.equal(formEncode('a b'), 'a+b');
  t.equal(formEncode('plain-value_1.2*'), 'plain-value_1.2*');
});

t.test('ClientCredentialsMode 2: client_id and client_secret in the URL query', async (t) => {
  const parts = apply(clientSecretQuery('id', 'sec'));
  t.same(parts.query, [
    ['client_id', 'id'],
    ['client_secret', 'sec'],
  ]);
  t.same(parts.headers, {});
});

t.test('ClientCredentialsMode 3: client_secret_post puts both in the body', async (t) => {
  const parts = apply(clientSecretPost('id', 'sec'));
  t.same(
    [...parts.body],
    [
      ['client_id', 'id'],
      ['client_secret', 'sec'],
    ],
  );
  t.same(parts.headers, {});
});

t.test('public client (RFC 6749 3.2.1): client_id alone in the body', async (t) => {
  t.same([...apply(clientIdOnly('pub')).body], [['client_id', 'pub']]);
});

t.test('clientAuthFor picks by ClientCredentialsMode', async (t) => {
  const base = { clientId: 'id', clientSecret: 'sec' };
  t.match(apply(clientAuthFor(makeDsn({ ...base, clientCredentialsMode: 0 }))).headers, {
    authorization: /^Basic /,
  });
  t.match(apply(clientAuthFor(makeDsn({ ...base, clientCredentialsMode: 1 }))).headers, {
    authorization: /^Basic /,
  });
  t.equal(apply(clientAuthFor(makeDsn({ ...base, clientCredentialsMode: 2 }))).query.length, 2);
  t.equal(
    apply(clientAuthFor(makeDsn({ ...base, clientCredentialsMode: 3 }))).body.get('client_secret'),
    'sec',
  );
  t.same(
    [...apply(clientAuthFor(makeDsn({ clientId: 'id', clientCredentialsMode: 0 }))).body],
    [['client_id', 'id']],
  );
  const none = apply(clientAuthFor(makeDsn({})));
  t.same(
    [none.headers, none.query, [...none.body]],
    [{}, [], []],
    'no ClientID, no client authentication',
  );
});

t.test(
  'tls_client_auth and self_signed_tls_client_auth (RFC 8705 2.1, 2.2): client_id in the body, never the secret',
  async (t) => {
    for (const mode of ['tls_client_auth', 'self_signed_tls_client_auth'] as const) {
      const parts = apply(
        clientAuthFor(
          makeDsn({
            method: 54,
            clientId: 'id',
            // set by mistake: config warns, and it must not travel
            clientSecret: 'sec',
            clientCredentialsMode: mode,
            clientCertificate: { file: 'client.pem' },
          }),
        ),
      );
      t.same([parts.headers, parts.query, [...parts.body]], [{}, [], [['client_id', 'id']]], mode);
    }
  },
);
