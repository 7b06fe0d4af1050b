#!/usr/bin/env node
// Broken-link check for README.md and docs/*.md: every relative link must name an existing file, and every anchor
// (#…) a heading of its target, with the heading ids GitHub generates. Plain JavaScript so that CI can run it
// without a build: `node test/check-doc-links.js` exits 1 and lists the broken links. test/doc-links.e2e-spec.ts runs
// it in the suite. External (http, mailto) links are not fetched: the check must pass offline.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** GitHub's heading id: lower case, punctuation dropped (letters of every script kept), spaces to hyphens. */
function githubSlug(heading) {
  const text = heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link in a heading keeps its text
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Splits a Markdown file into its prose lines (code fences removed) with their line numbers. */
function proseLines(markdown) {
  const out = [];
  let fence = null;
  markdown.split('\n').forEach((line, i) => {
    const m = /^\s*(```|~~~)/.exec(line);
    if (m) {
      if (fence === null) fence = m[1];
      else if (m[1] === fence) fence = null;
      return;
    }
    if (fence === null) out.push({ line: i + 1, text: line });
  });
  return out;
}

/** The anchors a Markdown file offers: heading ids (numbered like GitHub's when repeated) and explicit ids. */
function anchorsOf(markdown) {
  const anchors = new Set();
  const seen = new Map();
  for (const { text } of proseLines(markdown)) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (h) {
      const base = githubSlug(h[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of text.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1]);
  }
  return anchors;
}

/** Inline links and images of a line, inline code removed first (`[a](b)` inside backticks is not a link). */
function linksOf(text) {
  const prose = text.replace(/`[^`]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
}

/** Checks the given Markdown files; returns one message per broken link (empty when all resolve). */
function checkFiles(files) {
  const problems = [];
  const anchorCache = new Map();
  const anchorsFor = (file) => {
    if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(fs.readFileSync(file, 'utf8')));
    return anchorCache.get(file);
  };
  for (const file of files) {
    const markdown = fs.readFileSync(file, 'utf8');
    for (const { line, text } of proseLines(markdown)) {
      for (const target of linksOf(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto: …
        const where = `${path.relative(process.cwd(), file)}:${line}`;
        const [rawPath, anchor] = target.split('#', 2);
        const targetFile = rawPath ? path.resolve(path.dirname(file), decodeURIComponent(rawPath)) : file;
        if (!fs.existsSync(targetFile)) {
          problems.push(`${where}: ${target}: no such file`);
          continue;
        }
        if (anchor === undefined || anchor === '') continue;
        if (!/\.md$/i.test(targetFile) || fs.statSync(targetFile).isDirectory()) {
          problems.push(`${where}: ${target}: an anchor into a file that is not Markdown`);
          continue;
        }
        if (!anchorsFor(targetFile).has(decodeURIComponent(anchor))) {
          problems.push(
            `${where}: ${target}: no heading with id "${anchor}" in ${path.relative(process.cwd(), targetFile)}`,
          );
        }
      }
    }
  }
  return problems;
}

/** README.md, sample/README.md and docs/*.md (not the generated docs/api/) of the repository at `root`. */
function documentationFiles(root) {
  const files = ['README.md', 'sample/README.md', 'CHANGELOG.md']
    .map((f) => path.join(root, f))
    .filter((f) => fs.existsSync(f));
  const docs = path.join(root, 'docs');
  if (fs.existsSync(docs)) {
    for (const f of fs.readdirSync(docs).sort()) if (f.endsWith('.md')) files.push(path.join(docs, f));
  }
  return files;
}

module.exports = { githubSlug, anchorsOf, linksOf, checkFiles, documentationFiles };

if (require.main === module) {
  const root = path.resolve(__dirname, '..');
  const files = documentationFiles(root);
  const problems = checkFiles(files);
  if (problems.length) {
    console.error(`${problems.length} broken link(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log(`doc links: ${files.length} files, every relative link and anchor resolves`);
}
