/**
 * Reads the project's Markdown for the documentation tests: the files,
 * their fenced code blocks, their links and their headings' anchors.
 *
 * @module
 */

/** The repository root (ends with a slash). */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** `README.md` and every page of `docs/`, as paths relative to the root. */
export function markdownFiles(): string[] {
  const pages = [...Deno.readDirSync(`${ROOT}docs`)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort();
  return ["README.md", ...pages];
}

/** A fenced code block. */
export interface CodeBlock {
  /** The file it is in, relative to the root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The language, e.g. `ts` (empty when none is given). */
  lang: string;
  /** Words after the language on the fence line, e.g. `ignore`. */
  attributes: string[];
  /** The code between the fences. */
  code: string;
}

/** The fenced code blocks of a Markdown text. */
export function codeBlocks(file: string, text: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith("```"); i++) body.push(lines[i]!);
    blocks.push({
      file,
      line: start + 1,
      lang: open[1]!,
      attributes: open[2]!.trim().split(/\s+/).filter((word) => word !== ""),
      code: body.join("\n") + "\n",
    });
  }
  return blocks;
}

/** True for the blocks Deno type-checks and runs (TypeScript or JavaScript). */
export function isScript(block: CodeBlock): boolean {
  return ["ts", "typescript", "js", "javascript", "mts", "tsx", "jsx"].includes(block.lang);
}

/** The text with fenced code blocks and inline code spans blanked (line numbers kept). */
export function prose(text: string): string {
  const lines = text.split("\n");
  let fenced = false;
  return lines.map((line) => {
    if (line.startsWith("```")) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line.replace(/`[^`]*`/g, (span) => " ".repeat(span.length));
  }).join("\n");
}

/** A link or image target in prose. */
export interface Link {
  /** 1-based line. */
  line: number;
  /** The target as written. */
  target: string;
}

/** Every `[text](target)` and `![alt](target)` of the prose. */
export function links(text: string): Link[] {
  const found: Link[] = [];
  prose(text).split("\n").forEach((line, i) => {
    for (const match of line.matchAll(/\]\(([^()\s]+)\)/g)) {
      found.push({ line: i + 1, target: match[1]! });
    }
  });
  return found;
}

/**
 * The anchors of a Markdown text's headings, made as GitHub makes them:
 * lowercased, code spans unwrapped, everything but letters, digits, `_`,
 * `-` and spaces removed, spaces turned into `-`, and `-1`, `-2`, … added to
 * repeats.
 */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (heading === null) continue;
    const base = heading[1]!.trim().toLowerCase().replace(/`/g, "")
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "").replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}
