/**
 * The published declarations must compile for a consumer that lacks the optional peers (ioredis): with
 * `skipLibCheck: false` an import of a missing module is TS2307 in the consumer's build. Needs `npm run build`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const dist = join(__dirname, '..', 'dist');
const OPTIONAL_PEERS = ['ioredis', 'bullmq', '@nestjs/bullmq'];

function declarations(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? declarations(p) : name.endsWith('.d.ts') ? [p] : [];
  });
}

(existsSync(dist) ? describe : describe.skip)('published declarations', () => {
  it('import no optional peer dependency', () => {
    const offenders: string[] = [];
    for (const file of declarations(dist)) {
      const text = readFileSync(file, 'utf8');
      for (const peer of OPTIONAL_PEERS) {
        if (new RegExp(`(from|import\\()\\s*['"]${peer}(/[^'"]*)?['"]`).test(text)) offenders.push(`${relative(dist, file)} imports ${peer}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
