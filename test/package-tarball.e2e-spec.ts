// What `npm publish` would ship, read from `npm pack --dry-run --json` (the same file list npm computes for a real
// pack). `npm test` builds dist/ first; run `npm run build` before running this suite alone.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

interface PackedFile {
  path: string;
  size: number;
}

interface PackResult {
  name: string;
  files: PackedFile[];
}

interface PackageJson {
  license: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  engines: { node: string };
  repository: { url: string };
  homepage: string;
  bugs: { url: string };
}

interface SourceMap {
  sources: string[];
  sourcesContent?: (string | null)[];
}

const strip = (p: string): string => p.replace(/^\.\//, '');

describe('the npm tarball', () => {
  let paths: string[];
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;

  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'index.js')))
      throw new Error('dist/ is missing: run `npm run build` first');
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [result] = JSON.parse(out) as PackResult[];
    paths = result.files.map((f) => f.path);
  });

  it('contains the build, the CLI and the documents a user reads', () => {
    for (const p of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/testing/index.js',
    ]) {
      expect(paths).toContain(p);
    }
    expect(paths.some((p) => p.startsWith('bin/'))).toBe(true);
  });

  it('contains every file package.json points at (main, types, exports, bin)', () => {
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin)];
    for (const entry of Object.values(pkg.exports))
      targets.push(...(typeof entry === 'string' ? [entry] : Object.values(entry)));
    for (const t of targets) expect(paths).toContain(strip(t));
  });

  it('ships no tests, sample, benchmarks, fixtures, environment files or build caches', () => {
    const unwanted = paths.filter((p) =>
      [
        /\.spec\.[cm]?[jt]s$/, // unit specs compiled next to the code
        /e2e-spec/,
        /^(test|sample|bench|lib|docs|coverage)\//,
        /(^|\/)fixtures?\//,
        /(^|\/)\.env(\.|$)/,
        /\.sqlite$/,
        /wechatpay-sandbox\.json$/, // the CLI simulator's credentials file (private keys)
        /\.tsbuildinfo$/,
        /(^|\/)\.(ci|git|eslintrc)/,
      ].some((re) => re.test(p)),
    );
    expect(unwanted).toEqual([]);
  });

  it('ships source maps only with their sources', () => {
    const maps = paths.filter((p) => p.endsWith('.map'));
    const orphans: string[] = [];
    for (const m of maps) {
      const map = JSON.parse(readFileSync(join(root, m), 'utf8')) as SourceMap;
      map.sources.forEach((source, i) => {
        const inline = typeof map.sourcesContent?.[i] === 'string';
        const shipped = paths.includes(join(m, '..', source).replace(/\\/g, '/'));
        if (!inline && !shipped) orphans.push(`${m} -> ${source}`);
      });
    }
    expect(orphans).toEqual([]);
  });

  it('declares the MIT license it ships, where the project lives, and the Node.js NestJS 12 needs', () => {
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\//);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.bugs.url).toMatch(/^https:\/\//);
    // NestJS 12 is ESM-only; this CommonJS package loads it through require(esm), unflagged from Node.js 20.19.
    expect(pkg.engines.node).toBe('>=20.19');
  });
});
