/**
 * Comments name the page and section that describe a protocol or a format
 * (`docs/internals.md "Bindings by reference"`) rather than repeat it or point
 * into another file's comment: every such pointer in the code names a heading
 * that exists, and no pointer names a section of a source file.
 */
import assert from "node:assert/strict";
import { ROOT } from "./_markdown.ts";

const DIRS = ["src", "tests", "bench", "workers", "scripts"];

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(`${ROOT}${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** The comments of a file, continuation lines joined, so a pointer broken across lines reads whole. */
function comments(path: string): string {
  const kept: string[] = [];
  for (const line of Deno.readTextFileSync(`${ROOT}${path}`).split("\n")) {
    const whole = /^\s*(?:\/\*\*|\*|\/\/)(.*)$/.exec(line);
    const tail = whole === null ? / \/\/ (.*)$/.exec(line) : null;
    kept.push((whole ?? tail)?.[1]?.trim() ?? "");
  }
  return kept.join(" ");
}

/** Every `PATH "Name"` pointer of the code (a list `PATH "A", "B"` gives one per name). */
function pointers(pattern: string): { file: string; target: string; name: string }[] {
  const found: { file: string; target: string; name: string }[] = [];
  const re = new RegExp(`(${pattern})\`?,? "([^"]+)"((?:,(?: and)? "[^"]+")*)`, "g");
  for (const dir of DIRS) {
    for (const file of sourceFiles(dir)) {
      for (const m of comments(file).matchAll(re)) {
        const more = [...m[3]!.matchAll(/"([^"]+)"/g)].map((n) => n[1]!);
        for (const name of [m[2]!, ...more]) found.push({ file, target: m[1]!, name });
      }
    }
  }
  return found;
}

/** The headings of a Markdown page, outside fenced code. */
function headings(page: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of Deno.readTextFileSync(`${ROOT}${page}`).split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = fenced ? null : /^#{1,6} (.+)$/.exec(line);
    if (m === null) continue;
    // A dated section ("Micro-benchmarks — 1 run of …") is named by what precedes the dash.
    out.add(m[1]!.trim());
    out.add(m[1]!.split(" — ")[0]!.trim());
  }
  return out;
}

Deno.test("every docs pointer in the code names a section of its page", () => {
  const found = pointers("docs/[a-z_-]+\\.md");
  assert.ok(found.length > 50, `only ${found.length} docs pointers found: is the pattern right?`);
  const missing = found
    .filter(({ target, name }) => !headings(target).has(name))
    .map(({ file, target, name }) => `${file}: ${target} "${name}"`);
  assert.deepEqual(missing, []);
});

Deno.test("no comment points into a section of a source file", () => {
  // A path under src/, or a bare file name other than a benchmark's.
  const into = pointers("src/[\\w/]+\\.ts|(?<![\\w/.-])(?![a-z_]+_bench\\.ts)[a-z_]+\\.ts")
    .map(({ file, target, name }) => `${file}: ${target} "${name}"`);
  assert.deepEqual(into, []);
});

Deno.test("every benchmark pointer in the code names something in that benchmark", () => {
  const found = pointers("bench/[\\w/]+\\.ts");
  assert.ok(found.length > 20, `only ${found.length} benchmark pointers found`);
  const stale = found
    .filter(({ target, name }) => !Deno.readTextFileSync(`${ROOT}${target}`).includes(name))
    .map(({ file, target, name }) => `${file}: ${target} "${name}"`);
  assert.deepEqual(stale, []);
});
