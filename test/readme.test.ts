import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { OPTIONS } from '../lib/config/catalogue.js';
import { repoRoot } from './fixtures/repo.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

t.test('the README opens with the install-and-run command and the test command', async (t) => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  t.match(firstBlock, /npm ci && npm start/);
  t.match(firstBlock, /npm test/);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  t.match(pkg.scripts.start, /odbc\.ini\.example/, 'npm start serves the example config');
});

t.test('every option of the catalogue is documented in the README', async (t) => {
  for (const o of OPTIONS) {
    if (o.ignored) continue;
    t.ok(readme.includes(`\`${o.name}\``), o.name);
  }
});
