// The README's and docs/' relative links and anchors resolve (the same check CI can run as `npm run docs:check`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface DocLinks {
  githubSlug(heading: string): string;
  checkFiles(files: string[]): string[];
  documentationFiles(root: string): string[];
}

// eslint-disable-next-line @typescript-eslint/no-var-requires -- a plain JS script, so CI can run it without a build
const links = require('./check-doc-links.js') as DocLinks;

describe('documentation links', () => {
  it('every relative link and anchor of README.md and docs/*.md resolves', () => {
    const files = links.documentationFiles(join(__dirname, '..'));
    expect(files.map((f) => f.replace(/.*[/\\]/, ''))).toEqual(
      expect.arrayContaining(['README.md', 'orders.md', 'notifications.md']),
    );
    expect(links.checkFiles(files)).toEqual([]);
  });

  it('computes heading ids the way GitHub does', () => {
    expect(links.githubSlug('1. Create the app with the raw body (Express and Fastify)')).toBe(
      '1-create-the-app-with-the-raw-body-express-and-fastify',
    );
    expect(links.githubSlug('Payment and refund notifications (回调通知)')).toBe(
      'payment-and-refund-notifications-回调通知',
    );
    expect(links.githubSlug('The WeChat Pay simulator (`nestjs-wechat-partner-pay/testing`)')).toBe(
      'the-wechat-pay-simulator-nestjs-wechat-partner-paytesting',
    );
  });

  it('reports a missing file, a missing anchor and a missing anchor in another file, but not code or external links', () => {
    const dir = mkdtempSync(join(tmpdir(), 'doc-links-'));
    try {
      writeFileSync(join(dir, 'b.md'), '# Only heading\n\n## Twice\n\n## Twice\n');
      writeFileSync(
        join(dir, 'a.md'),
        [
          '# A',
          '[ok](b.md#only-heading) [ok](b.md#twice-1) [ok](#a) [ok](https://example.com/x.md#nope)',
          '[gone](missing.md) [bad](#nowhere) [bad](b.md#twice-2)',
          '`[not a link](missing.md)`',
          '```md',
          '[not a link](missing-too.md)',
          '```',
        ].join('\n'),
      );
      const problems = links.checkFiles([join(dir, 'a.md')]);
      expect(problems).toHaveLength(3);
      expect(problems[0]).toMatch(/a\.md:3: missing\.md: no such file/);
      expect(problems[1]).toMatch(/#nowhere: no heading with id "nowhere"/);
      expect(problems[2]).toMatch(/b\.md#twice-2: no heading/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
