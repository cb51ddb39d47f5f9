/**
 * Child process for the refresh-lock test: takes a FileTokenStore's refresh lock for a key, says
 * "locked", and holds it until a line arrives on stdin (or it is killed).
 */
import { FileTokenStore } from '../../../lib/auth/stores/file-store.js';

const [path, key] = process.argv.slice(2);
if (!path || !key) throw new Error('usage: file-store-lock-holder <file> <key>');
await new FileTokenStore(path).withRefreshLock(key, async () => {
  process.stdout.write('locked\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
});
process.stdin.pause();
