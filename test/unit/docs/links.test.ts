/**
 * The project's docs stand alone (issue 12): every link in the README and `docs/` either leaves for the web or
 * names a file of this repository that exists — none climbs out of the repository.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../../..');
const pages = [path.join(REPO, 'README.md'), ...(await readdir(path.join(REPO, 'docs'), { recursive: true })).filter((f) => f.endsWith('.md')).map((f) => path.join(REPO, 'docs', f))];

/** Markdown link targets outside code spans and code blocks. */
function targets(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

describe('links in the README and docs/', () => {
  it.each(pages.map((p) => [path.relative(REPO, p), p]))('%s: every relative link names a file inside the repository', async (_name, page) => {
    const broken: string[] = [];
    for (const target of targets(await readFile(page, 'utf8'))) {
      if (/^(https?:|mailto:|#)/.test(target)) continue;
      const file = path.resolve(path.dirname(page), target.split('#')[0]!);
      if (!file.startsWith(REPO + path.sep) || !existsSync(file)) broken.push(target);
    }
    expect(broken).toEqual([]);
  });

  it('finds the links it checks (the README links every page of docs/)', async () => {
    expect(targets(await readFile(path.join(REPO, 'README.md'), 'utf8')).filter((t) => t.startsWith('docs/')).length).toBeGreaterThan(10);
  });
});
