/**
 * Child process for the crash test: saves rotating refresh tokens to a FileTokenStore as fast as it
 * can and prints each number once its save has resolved, until it is killed.
 */
import { FileTokenStore } from '../../../lib/auth/stores/file-store.js';

const [path, startArg] = process.argv.slice(2);
if (!path) throw new Error('usage: file-store-writer <file> <start>');
const store = new FileTokenStore(path);
// a few KB per entry, so a write is several syscalls a kill can land between
const padding = 'x'.repeat(4096);
for (let n = Number(startArg ?? 0); ; n++) {
  await store.save('dsn', {
    refreshToken: `rt-${n}`,
    accessToken: `at-${n}-${padding}`,
    updatedAt: n,
  });
  await store.save('other', { refreshToken: `other-${n}`, updatedAt: n });
  process.stdout.write(`${n}\n`);
}
