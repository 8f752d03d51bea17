// What the docs tests read of a Markdown document: its links and its headings' anchors, as GitHub
// (and npm) render them. Used by test/docs.test.ts (the repository) and the package test (the tarball).

/** The targets of the document's links, outside code blocks and code spans (which are not links). */
export function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
}

/**
 * The anchors GitHub (and npm) give a document's headings: lower case, punctuation dropped, spaces
 * as hyphens; a heading met again gets `-1`, `-2`, ... as GitHub numbers it.
 */
export function headingSlugs(markdown: string): Set<string> {
  const headings = markdown.replace(/^```[\s\S]*?^```/gm, '').match(/^#{1,6} .+$/gm) ?? [];
  const slugs = new Set<string>();
  for (const heading of headings) {
    const slug = heading.replace(/^#+ /, '').toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    let unique = slug;
    for (let n = 1; slugs.has(unique); n++) unique = `${slug}-${n}`;
    slugs.add(unique);
  }
  return slugs;
}
