import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import t from 'tap';
import { CODES, TokenshimError, UpstreamError, type UpstreamFailure } from '../lib/errors.js';
import { repoRoot } from './fixtures/repo.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** The codes in the first column of the README's "## Errors" table. */
function readmeErrorTable(): string[] {
  const section = /^## Errors\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
  return [...section.matchAll(/^\| `(TOKENSHIM_[A-Z_]+)` +\|/gm)].map((m) => m[1] as string);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

t.test('every code has the name it is spelled with: CODES.X is TOKENSHIM_X', async (t) => {
  for (const [name, code] of Object.entries(CODES)) t.equal(code, `TOKENSHIM_${name}`);
  t.equal(new Set(Object.values(CODES)).size, Object.keys(CODES).length, 'no code twice');
});

t.test('the README error table lists every code, and only those', async (t) => {
  const documented = readmeErrorTable();
  t.ok(documented.length > 0, 'the README has a "## Errors" table');
  for (const code of Object.values(CODES)) {
    t.ok(documented.includes(code), `${code} is in the README's error table`);
  }
  for (const code of documented) {
    t.ok((Object.values(CODES) as string[]).includes(code), `${code} (README) is in CODES`);
  }
  t.equal(new Set(documented).size, documented.length, 'each code documented once');
});

t.test(
  'no TOKENSHIM_ code literal in lib/ outside the code table (lib/errors/tokenshim-error.ts)',
  async (t) => {
    const lib = join(repoRoot, 'lib');
    const offenders: string[] = [];
    for (const file of sourceFiles(lib)) {
      const path = relative(repoRoot, file).split(sep).join('/');
      // the codes, and the environment variables that share their prefix
      if (path === 'lib/errors/tokenshim-error.ts' || path === 'lib/platform/environment-names.ts')
        continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/['"`]TOKENSHIM_/.test(line)) offenders.push(`${path}:${i + 1}: ${line.trim()}`);
        });
    }
    t.same(offenders, [], 'use CODES.X (lib/errors/tokenshim-error.ts) instead');
  },
);

t.test('UpstreamError maps each failure to its own code and status', async (t) => {
  const expected: Record<UpstreamFailure, [string, number]> = {
    unreachable: [CODES.UPSTREAM_UNREACHABLE, 502],
    tls: [CODES.UPSTREAM_TLS, 502],
    timeout: [CODES.UPSTREAM_TIMEOUT, 504],
    reset: [CODES.UPSTREAM_RESET, 502],
    proxy: [CODES.UPSTREAM_PROXY, 502],
    'headers-too-large': [CODES.UPSTREAM_HEADERS_TOO_LARGE, 502],
    'bad-body': [CODES.UPSTREAM_BAD_BODY, 502],
  };
  for (const [failure, [code, status]] of Object.entries(expected)) {
    const e = new UpstreamError(failure as UpstreamFailure, {
      dsn: 'd',
      origin: 'https://api.example',
      why: 'failed',
      hint: 'Fix it.',
    });
    t.type(e, TokenshimError);
    t.same([e.code, e.status, e.toProblem().code], [code, status, code], failure);
  }
});
