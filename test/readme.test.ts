import { existsSync, readFileSync } from 'node:fs';
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

t.test('each row of the Security threat table names tests that exist', async (t) => {
  const section = readme.slice(readme.indexOf('### Security\n'));
  const rows = section
    .slice(0, section.indexOf('\n\n', section.indexOf('| threat')))
    .split('\n')
    .filter((line) => line.startsWith('| ') && !/^\| (?:threat|-)/.test(line));
  t.ok(rows.length >= 15, `${rows.length} threats`);
  for (const row of rows) {
    const [threat = '', , proof = ''] = row.split(' | ');
    const files = [...proof.matchAll(/`(test\/[^`]+\.test\.ts)`(?::\s*((?:"[^"]+"(?:,\s*)?)+))?/g)];
    t.ok(files.length > 0, `a test for: ${threat.slice(2, 60)}`);
    for (const [, file = '', names = ''] of files) {
      const path = join(repoRoot, file);
      if (!t.ok(existsSync(path), file)) continue;
      const source = readFileSync(path, 'utf8');
      for (const [, name = ''] of names.matchAll(/"([^"]+)"/g)) {
        t.ok(source.includes(name), `${file}: ${name}`);
      }
    }
  }
});
