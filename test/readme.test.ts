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
  t.match(
    pkg.scripts.start,
    /bin\.js demo$/,
    'npm start runs the built-in demo, which needs no network',
  );
});

t.test('every option of the catalogue is documented in the README', async (t) => {
  for (const o of OPTIONS) {
    if (o.ignored) continue;
    t.ok(readme.includes(`\`${o.name}\``), o.name);
  }
});

t.test('a filled-in odbc.ini and saved tokens in the checkout stay out of git', async (t) => {
  const { execFileSync } = await import('node:child_process');
  for (const path of [
    'odbc.ini',
    'odbc.ini.tokens.json',
    'samples/zoho.ini.tokens.json',
    'tokenshim-0.1.0.tgz',
  ]) {
    t.doesNotThrow(
      () => execFileSync('git', ['check-ignore', '-q', path], { cwd: repoRoot }),
      path,
    );
  }
  t.throws(
    () => execFileSync('git', ['check-ignore', '-q', 'odbc.ini.example'], { cwd: repoRoot }),
    'the example is tracked',
  );
});

t.test("the README's `npx tokenshim` works in the checkout, without a registry", async (t) => {
  t.match(readme, 'npx tokenshim check --config odbc.ini --offline');
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { stdout } = await promisify(execFile)(
    process.platform === 'win32' ? 'npx.cmd' : 'npx',
    ['--offline', 'tokenshim', '--version'],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        npm_config_registry: 'http://127.0.0.1:9/',
        npm_config_update_notifier: 'false',
      },
    },
  );
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  t.equal(stdout.trim(), pkg.version);
});
