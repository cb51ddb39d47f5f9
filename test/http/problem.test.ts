import t, { type Test } from 'tap';
import { createServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, connect, type AddressInfo, type Socket } from 'node:net';
import { request } from 'undici';
import { HostNotAllowedError, TokenUnavailableError, UnknownDsnError } from '../../lib/errors.js';
import {
  asTokenshimError,
  sendJson,
  sendProblem,
  sendText,
  writeProblemToSocket,
} from '../../lib/http/problem.js';

/** A loopback server whose every request is answered by `answer`, closed in teardown. */
async function serve(t: Test, answer: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((_req, res) => answer(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

t.test('sendProblem: RFC 9457 problem+json with the status, never cached', async (t) => {
  const url = await serve(t, (res) => sendProblem(res, new UnknownDsnError('nope', ['crm'])));
  const res = await request(`${url}/nope/x`);
  t.equal(res.statusCode, 404);
  t.equal(res.headers['content-type'], 'application/problem+json');
  t.equal(res.headers['cache-control'], 'no-store');
  const text = await res.body.text();
  t.equal(Number(res.headers['content-length']), Buffer.byteLength(text));
  t.match(JSON.parse(text), {
    type: String,
    title: String,
    status: 404,
    code: 'TOKENSHIM_UNKNOWN_DSN',
    detail: /No DSN named "nope"/,
  });
});

t.test('sendProblem after the response began cuts the connection instead', async (t) => {
  const url = await serve(t, (res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial ');
    sendProblem(res, new TokenUnavailableError('crm', 'the token endpoint is down'));
  });
  await t.rejects(
    (async () => (await request(url)).body.text())(),
    { name: 'SocketError' },
    'the client sees the connection cut, never a complete-looking answer',
  );
});

t.test('writeProblemToSocket: a whole HTTP/1.1 answer on a raw socket, then closed', async (t) => {
  const server = createTcpServer((socket: Socket) =>
    writeProblemToSocket(socket, new HostNotAllowedError('attacker.example')),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  const [head, body] = answer.split('\r\n\r\n');
  t.match(head, /^HTTP\/1\.1 421 Misdirected Request\r\n/);
  t.match(head, /\r\nContent-Type: application\/problem\+json\r\n/);
  t.match(head, /\r\nConnection: close$/);
  t.match(head, new RegExp(`\\r\\nContent-Length: ${Buffer.byteLength(body!)}\\r\\n`));
  t.match(JSON.parse(body!), { status: 421, code: 'TOKENSHIM_HOST_NOT_ALLOWED' });
});

t.test('sendJson and sendText: content type, length and no-store; headers kept', async (t) => {
  const json = await serve(t, (res) => sendJson(res, 503, { status: 'not ready' }));
  const a = await request(json);
  t.equal(a.statusCode, 503);
  t.equal(a.headers['content-type'], 'application/json');
  t.equal(a.headers['cache-control'], 'no-store');
  t.same(await a.body.json(), { status: 'not ready' });

  const html = await serve(t, (res) =>
    sendText(res, 200, 'text/html; charset=utf-8', '<p>é</p>', {
      'x-content-type-options': 'nosniff',
    }),
  );
  const b = await request(html);
  t.equal(b.headers['content-type'], 'text/html; charset=utf-8');
  t.equal(b.headers['x-content-type-options'], 'nosniff');
  t.equal(b.headers['content-length'], String(Buffer.byteLength('<p>é</p>')));
  t.equal(await b.body.text(), '<p>é</p>');
});

t.test(
  'asTokenshimError shows other errors by name only: their messages may quote a token',
  async (t) => {
    const secret = 'eyJhbGciOi.secret-access-token-0123456789';
    const shown = asTokenshimError(new TypeError(`cannot read ${secret}`), 'crm');
    t.equal(shown.code, 'TOKENSHIM_TOKEN_UNAVAILABLE');
    t.equal(shown.dsn, 'crm');
    t.match(shown.message, /TypeError/);
    t.notOk(JSON.stringify(shown.toProblem()).includes(secret));
    const own = new UnknownDsnError('x', []);
    t.equal(asTokenshimError(own, 'crm'), own, 'a TokenshimError is shown as it is');
  },
);
