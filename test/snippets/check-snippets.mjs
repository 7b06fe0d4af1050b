#!/usr/bin/env node
/**
 * Type-checks every TypeScript snippet of README.md, docs/**.md, CONTRIBUTING.md and sample/README.md inside a
 * generated NestJS 12 ESM project that installs the packed package, the way a user would paste them into a fresh
 * `nest new` app (strict, NodeNext, `.js` relative imports).
 *
 * Snippet rules (CONTRIBUTING.md repeats them, checked here):
 * - Every ```ts / ```typescript block is a complete module: all its imports are present.
 * - A block may start with `// file: src/x.ts`: it is written there, so that other blocks can import it
 *   (`import { AppModule } from './app.module.js'`). Blocks without it get a file of their own.
 * - A block fenced as ```ts fragment is an excerpt (a line or two of a larger file) and is not compiled.
 *
 * Usage: npm run docs:snippets [-- --keep] (needs `npm run build` first; installs from the npm registry).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const keep = process.argv.includes('--keep');

function markdownFiles() {
  const out = [join(root, 'README.md')];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.md')) out.push(p);
    }
  };
  walk(join(root, 'docs'));
  for (const extra of ['CONTRIBUTING.md', 'sample/README.md']) if (existsSync(join(root, extra))) out.push(join(root, extra));
  return out;
}

/** The ```ts blocks of a markdown file, with the line of their first code line. */
export function extractSnippets(text, source) {
  const lines = text.split('\n');
  const snippets = [];
  let open;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```+\s*(\S*)\s*(.*)$/.exec(lines[i]);
    if (!open && fence && ['ts', 'typescript'].includes(fence[2])) {
      open = { source, line: i + 2, fragment: /\bfragment\b/.test(fence[3]), indent: fence[1].length, body: [] };
      continue;
    }
    if (open && /^\s*```+\s*$/.test(lines[i])) {
      if (!open.fragment) snippets.push({ ...open, code: open.body.map((l) => l.slice(Math.min(open.indent, l.length - l.trimStart().length))).join('\n') });
      open = undefined;
      continue;
    }
    if (open) open.body.push(lines[i]);
  }
  return snippets;
}

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

const snippets = markdownFiles().flatMap((f) => extractSnippets(readFileSync(f, 'utf8'), relative(root, f)));
if (snippets.length === 0) {
  console.error('no TypeScript snippets found');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'wechatpay-snippets-'));
try {
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', work], root).trim().split('\n').pop();
  const pkg = {
    name: 'snippet-app',
    version: '0.0.0',
    private: true,
    type: 'module',
    dependencies: {
      '@nestjs/common': '^12.0.0',
      '@nestjs/core': '^12.0.0',
      '@nestjs/platform-express': '^12.0.0',
      '@nestjs/platform-fastify': '^12.0.0',
      '@nestjs/testing': '^12.0.0',
      '@nestjs/config': '^12.0.0',
      '@nestjs/axios': '^12.0.0',
      axios: '^1.7.0',
      rxjs: '^7.8.0',
      'reflect-metadata': '^0.2.0',
      'class-validator': '^0.14.0',
      'class-transformer': '^0.5.1',
      ioredis: '^5.4.0',
      bullmq: '^6.0.0',
      '@nestjs/bullmq': '^12.0.0',
      'nestjs-wechat-partner-pay': `file:./${tarball}`,
    },
    devDependencies: { typescript: '5.9', '@types/node': '^20.19.0', '@types/express': '^5.0.0', '@types/supertest': '^6.0.0', supertest: '^7.0.0', jest: '^29.7.0', '@types/jest': '^29.5.0' },
  };
  writeFileSync(join(work, 'package.json'), JSON.stringify(pkg, null, 2));
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node', 'jest'],
        },
        include: ['src/**/*.ts'],
      },
      null,
      2,
    ),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], work);

  const placed = new Map();
  snippets.forEach((s, i) => {
    const declared = /^\s*\/\/\s*file:\s*(\S+)/.exec(s.code)?.[1];
    const path = declared ?? `src/snippets/${s.source.replace(/[^\w]+/g, '_')}_${s.line}.ts`;
    if (placed.has(path)) {
      const other = placed.get(path);
      throw new Error(`${s.source}:${s.line} and ${other.source}:${other.line} both declare ${path}`);
    }
    placed.set(path, s);
    mkdirSync(dirname(join(work, path)), { recursive: true });
    // `export {}` makes an import-less snippet a module of its own, as every file of an ESM app is.
    writeFileSync(join(work, path), `${s.code}\nexport {};\n`);
  });

  let output = '';
  try {
    run(join(work, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--pretty', 'false'], work);
  } catch (e) {
    output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  const errors = [];
  for (const line of output.split('\n')) {
    const m = /^(src\/[^(]+)\((\d+),(\d+)\): (error .*)$/.exec(line.trim());
    if (!m) {
      if (line.trim()) errors.push(line.trim());
      continue;
    }
    const s = placed.get(m[1]);
    errors.push(s ? `${s.source}:${s.line + Number(m[2]) - 1}: ${m[4]}` : line.trim());
  }
  if (errors.length) {
    console.error(`${errors.length} problem(s) in ${snippets.length} snippets:\n${errors.join('\n')}`);
    process.exitCode = 1;
  } else console.log(`snippets: ${snippets.length} TypeScript snippets type-check in a NestJS 12 ESM project`);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
