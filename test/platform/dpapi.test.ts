import t from 'tap';
import { DpapiUnavailableError, openDpapi } from '../../lib/platform/dpapi.js';
import { fakeDpapi } from '../fixtures/fake-dpapi.js';

t.test(
  'on Windows: protect and unprotect through the module, with tokenshim entropy',
  async (t) => {
    const fake = fakeDpapi();
    const dpapi = await openDpapi('CurrentUser', fake);
    const blob = dpapi.protect(Buffer.from('s3cr3t'));
    t.notMatch(blob.toString('latin1'), /s3cr3t/);
    t.equal(dpapi.unprotect(blob).toString(), 's3cr3t');
    t.same(fake.calls, ['protect CurrentUser', 'unprotect CurrentUser']);
    const other = await openDpapi('CurrentUser', fakeDpapi('someone-else'));
    t.throws(() => other.unprotect(blob), 'another account cannot decrypt it');
  },
);

t.test('elsewhere, or without the optional module, a clear error', async (t) => {
  await t.rejects(openDpapi('CurrentUser', { platform: 'linux' }), {
    name: 'DpapiUnavailableError',
    message: /only on Windows \(this is linux\)/,
  });
  await t.rejects(
    openDpapi('CurrentUser', {
      platform: 'win32',
      load: async () => {
        throw new Error("Cannot find package '@primno/dpapi'");
      },
    }),
    { message: /@primno\/dpapi, an optional dependency\) is not installed/ },
  );
  const unsupported = openDpapi('LocalMachine', {
    platform: 'win32',
    load: async () => ({ supported: false, bindings: fakeBindingsThatThrow() }),
  });
  await t.rejects(unsupported, DpapiUnavailableError);
});

t.test('the real module loads on this platform without breaking (lazy, optional)', async (t) => {
  // installing tokenshim on Linux installs the optional module; it only reports no support
  const module = await import('@primno/dpapi');
  t.equal(module.isPlatformSupported, process.platform === 'win32');
});

function fakeBindingsThatThrow() {
  const fail = (): never => {
    throw new Error('unsupported');
  };
  return { protectData: fail, unprotectData: fail };
}
