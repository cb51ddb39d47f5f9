import t from 'tap';
import { isLoopbackAddress, isLoopbackHost } from '../../lib/net/loopback.js';
import { HostCheck } from '../../lib/proxy/routing/host-check.js';

t.test('isLoopbackHost: localhost, 127.0.0.0/8 and ::1, bracketed or not', async (t) => {
  for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) {
    t.ok(isLoopbackHost(host), host);
  }
  for (const host of [
    '0.0.0.0',
    '::',
    '10.0.0.1',
    '127.0.0.1.nip.io',
    '127.example',
    'app.localhost',
  ]) {
    t.notOk(isLoopbackHost(host), host);
  }
});

t.test('isLoopbackAddress: socket peers, IPv4-mapped ones included', async (t) => {
  for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) t.ok(isLoopbackAddress(a), a);
  for (const a of [undefined, '10.0.0.1', '::ffff:10.0.0.1', '::']) {
    t.notOk(isLoopbackAddress(a), String(a));
  }
});

t.test('HostCheck admits the loopback rule, *.localhost and the listen address', async (t) => {
  const check = new HostCheck('10.1.2.3');
  for (const host of [
    '127.0.0.1:8790',
    'localhost',
    '[::1]:8790',
    'App.Localhost:1',
    '10.1.2.3:8790',
  ]) {
    t.ok(check.allows(host), host);
  }
  for (const host of [undefined, 'attacker.example', '127.0.0.1.nip.io:8790', '10.1.2.4']) {
    t.notOk(check.allows(host), String(host));
  }
});
