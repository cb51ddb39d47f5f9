import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { request } from 'undici';
import { repoRoot } from '../fixtures/repo.js';
import { startUpstream } from '../fixtures/upstream.js';

// npm pack and an install of ~3,000 files take a minute on a busy machine
t.setTimeout(10 * 60_000);

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const work = mkdtempSync(join(tmpdir(), 'tokenshim-offline-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/**
 * The registry is a closed port and the cache is empty: if npm needed anything that is not in
 * the tarball, the install would fail.
 */
function offlineEnv(cache: string): NodeJS.ProcessEnv {
  mkdirSync(cache, { recursive: true });
  return {
    ...process.env,
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_cache: cache,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

/** the tarball the first test packs, installed by the second */
let tarball: string | undefined;

t.test(
  'npm pack makes one tarball with every runtime dependency and no devDependency',
  async (t) => {
    // --ignore-scripts: dist/ is built already (npm test builds first); prepack would rebuild it
    // under the other test files running from it
    const { stdout } = await run(
      npm,
      ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
      {
        cwd: repoRoot,
        env: offlineEnv(join(work, 'pack-cache')),
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const [packed] = JSON.parse(stdout) as {
      filename: string;
      bundled: string[];
      files: { path: string }[];
    }[];
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      optionalDependencies?: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    // bundleDependencies lists them by name: a dependency added without it would be missing offline
    for (const dep of [
      ...Object.keys(pkg.dependencies),
      ...Object.keys(pkg.optionalDependencies ?? {}),
    ])
      t.ok(packed!.bundled.includes(dep), `bundles ${dep}`);
    for (const dev of Object.keys(pkg.devDependencies)) {
      if (packed!.bundled.includes(dev)) t.fail(`bundles the devDependency ${dev}`);
    }
    const paths = new Set(packed!.files.map((f) => f.path));
    t.ok(paths.has('dist/lib/cli/bin.js'), 'the built CLI');
    t.ok(
      paths.has('docs/windows.md'),
      'the Windows guide, for machines without a browser to the web',
    );
    t.ok(paths.has('node_modules/node-windows/bin/winsw/winsw.exe'), 'WinSW travels with it');
    t.notOk(
      [...paths].some((p) => p.startsWith('dist/test/')),
      'no tests in the package',
    );
    tarball = join(work, packed!.filename);
  },
);

t.test(
  'installs with --offline into a fresh prefix and the installed tokenshim serves',
  async (t) => {
    if (!tarball) {
      t.fail('no tarball: the pack test failed');
      return;
    }
    const env = offlineEnv(join(work, 'empty-cache'));
    const prefix = join(work, 'prefix with spaces');
    await run(npm, ['install', '--global', '--offline', '--prefix', prefix, tarball], {
      cwd: work,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    const bin = join(prefix, 'bin', 'tokenshim');
    const { stdout: version } = await run(bin, ['--version'], { env });
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    t.equal(version.trim(), pkg.version);

    const up = await startUpstream(t);
    const child = spawn(
      bin,
      ['serve', '--connect', `AuthenticationMethod=15;HostName=${up.origin}`, '--port', '0'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /tokenshim listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`tokenshim serve exited ${code}: ${err}`)));
    });
    const health = await request(`${url}/_tokenshim/health`);
    t.equal(health.statusCode, 200);
    await health.body.dump();
    const forwarded = await request(`${url}/default/through-the-installed-copy`);
    t.equal(forwarded.statusCode, 200, err);
    await forwarded.body.dump();
    t.equal(up.requests.at(-1)?.url, '/through-the-installed-copy');
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    t.equal(await exited, 0, 'SIGTERM drains and exits 0');
  },
);
