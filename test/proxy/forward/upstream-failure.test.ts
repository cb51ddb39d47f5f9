import t from 'tap';
import { errors } from 'undici';
import { describeUpstreamFailure } from '../../../lib/proxy/forward/upstream-failure.js';
import { makeDsn } from '../../fixtures/make-dsn.js';

const dsn = makeDsn({
  name: 'api',
  upstream: new URL('https://api.example.com'),
  connectTimeoutSeconds: 7,
});
const origin = 'https://api.example.com';

function withCode(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

t.test(
  'each undici/node failure maps to a status, a code and the option that fixes it',
  async (t) => {
    const cases: [Error, number, string, RegExp][] = [
      [
        new errors.ConnectTimeoutError(),
        504,
        'TOKENSHIM_UPSTREAM_TIMEOUT',
        /within 7 s.*ConnectTimeout/,
      ],
      [new errors.HeadersTimeoutError(), 504, 'TOKENSHIM_UPSTREAM_TIMEOUT', /HeadersTimeout/],
      [new errors.BodyTimeoutError(), 504, 'TOKENSHIM_UPSTREAM_TIMEOUT', /BodyTimeout/],
      [withCode('ENOTFOUND'), 502, 'TOKENSHIM_UPSTREAM_UNREACHABLE', /ENOTFOUND.*HostName/],
      [withCode('CERT_HAS_EXPIRED'), 502, 'TOKENSHIM_UPSTREAM_TLS', /CERT_HAS_EXPIRED.*TrustStore/],
      [
        new errors.HeadersOverflowError(),
        502,
        'TOKENSHIM_UPSTREAM_HEADERS_TOO_LARGE',
        /headers larger than 16384 bytes.*ResponseHeaderLimit=65536/,
      ],
      [
        new errors.SocketError('other side closed'),
        502,
        'TOKENSHIM_UPSTREAM_RESET',
        /closed the connection/,
      ],
    ];
    for (const [err, status, code, detail] of cases) {
      const e = describeUpstreamFailure(err, dsn, origin);
      t.equal(e.status, status, code);
      t.equal(e.code, code);
      t.match(e.message, detail);
      t.equal(e.dsn, 'api');
    }
  },
);

t.test('a TLS error wrapped in undici’s socket error is still a TLS failure', async (t) => {
  const wrapped = Object.assign(new errors.SocketError('closed'), {
    cause: withCode('ERR_TLS_CERT_ALTNAME_INVALID'),
  });
  t.equal(describeUpstreamFailure(wrapped, dsn, origin).code, 'TOKENSHIM_UPSTREAM_TLS');
});

t.test(
  'a TLS alert is the upstream refusing the handshake: the hint is the client certificate',
  async (t) => {
    const alert = withCode('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    const without = describeUpstreamFailure(alert, dsn, origin);
    t.equal(without.code, 'TOKENSHIM_UPSTREAM_TLS');
    t.match(without.message, /refused the TLS handshake .*set ClientCertificate/);
    const withCertificate = makeDsn({
      name: 'api',
      upstream: new URL(origin),
      clientCertificate: { file: 'client.pem' },
    });
    t.match(
      describeUpstreamFailure(
        withCode('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'),
        withCertificate,
        origin,
      ).message,
      /did not accept ClientCertificate/,
    );
  },
);
