/**
 * Child process for the store tests: saves numbered refresh tokens to a FileTokenStore and prints
 * each number once its save has resolved, until it is killed or has written `count` of them.
 */
import { FileTokenStore } from '../../../lib/auth/stores/file-store.js';

const [path, startArg, key = 'dsn', countArg] = process.argv.slice(2);
if (!path) throw new Error('usage: file-store-writer <file> <start> [key] [count]');
const store = new FileTokenStore(path);
// a few KB per entry, so a write is several syscalls a kill can land between
const padding = 'x'.repeat(4096);
const start = Number(startArg ?? 0);
if (countArg !== undefined) {
  // a start line from the parent, so several writers really overlap
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.pause();
}
const end = countArg === undefined ? Infinity : start + Number(countArg);
for (let n = start; n < end; n++) {
  await store.save(key, {
    refreshToken: `rt-${n}`,
    accessToken: `at-${n}-${padding}`,
    updatedAt: n,
  });
  if (countArg === undefined)
    await store.save('other', { refreshToken: `other-${n}`, updatedAt: n });
  process.stdout.write(`${n}\n`);
}
