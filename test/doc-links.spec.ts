/**
 * The documentation's relative links: every link in README.md, CONTRIBUTING.md, docs/*.md and bench/README.md that
 * is not a URL points to a file or folder of the repository, and its #anchor (if any) to a heading of that file
 * (GitHub's heading ids: lower case, punctuation dropped, spaces as hyphens, -1, -2... for repeats).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/** The documentation files whose links are checked. */
function documents(): string[] {
  const docs = existsSync(join(ROOT, 'docs'))
    ? readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => join('docs', f))
    : [];
  return ['README.md', 'CONTRIBUTING.md', 'bench/README.md', ...docs].filter((f) => existsSync(join(ROOT, f)));
}

/** Markdown without fenced code blocks and inline code (links there are examples, not links). */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's id for a heading text. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .trim()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The heading ids of a markdown file. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  const text = readFileSync(file, 'utf8').replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.add(n === 0 ? base : `${base}-${n}`);
  }
  return ids;
}

/** Every link target of a document: inline `[text](target)` and reference definitions `[id]: target`. */
function links(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  const defined = [...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]);
  return [...inline, ...defined];
}

/** What is wrong with one link of `doc`, or undefined. */
function problem(doc: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto:...
  const [path, anchor] = target.split('#', 2);
  const file = path === '' ? join(ROOT, doc) : resolve(dirname(join(ROOT, doc)), decodeURI(path));
  if (!file.startsWith(ROOT)) return `${target}: outside the repository`;
  if (!existsSync(file)) return `${target}: no such file`;
  if (anchor === undefined || anchor === '') return undefined;
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return `${target}: anchor in a file that is not markdown`;
  return anchors(file).has(decodeURIComponent(anchor).toLowerCase())
    ? undefined
    : `${target}: no heading #${anchor} in ${relative(ROOT, file)}`;
}

describe('documentation links', () => {
  it('finds the documents', () => {
    expect(documents()).toContain('README.md');
  });

  it.each(documents())('%s: every relative link points to an existing file and heading', (doc) => {
    const broken = links(readFileSync(join(ROOT, doc), 'utf8'))
      .map((target) => problem(doc, target))
      .filter((p): p is string => p !== undefined);
    expect(broken).toEqual([]);
  });

  it('computes heading ids as GitHub does', () => {
    expect(slug('Use it in your project')).toBe('use-it-in-your-project');
    expect(slug('Cache (`@Cacheable`, tags)')).toBe('cache-cacheable-tags');
    expect(slug('What happens when Redis fails?')).toBe('what-happens-when-redis-fails');
    expect(slug('[Locks](docs/lock.md) & semaphores')).toBe('locks--semaphores');
  });
});
