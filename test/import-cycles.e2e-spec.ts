import { join } from 'node:path';
import { importCycles, importGraph, packageImports } from './tools/import-graph';

const root = join(__dirname, '..');

describe('lib/ import graph', () => {
  const graph = importGraph(root);

  it('finds the files and their imports', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('lib/index.ts')).toContain('lib/wechat-partner-pay.module.ts');
  });

  it('has no import cycle (type-only imports included)', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('detects a cycle when there is one', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['d']],
      ['e', ['a']],
    ]);
    expect(importCycles(g)).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('keeps lib/core free of Nest and of the domain folders', () => {
    const offenders: string[] = [];
    for (const [file, targets] of graph) {
      if (!file.startsWith('lib/core/')) continue;
      for (const t of targets) {
        if (!t.startsWith('lib/core/') && !t.startsWith('lib/interfaces/')) offenders.push(`${file} -> ${t}`);
      }
    }
    for (const [file, packages] of packageImports(root)) {
      if (!file.startsWith('lib/core/')) continue;
      for (const p of packages) if (p.startsWith('@nestjs/') || p === 'rxjs' || p === 'axios') offenders.push(`${file} -> ${p}`);
    }
    expect(offenders).toEqual([]);
  });
});
