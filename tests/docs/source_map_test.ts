/**
 * docs/internals.md "Where things are in the source" names every file of
 * `src/`, each in the bullet of its own folder.
 */
import assert from "node:assert/strict";
import { ROOT } from "./_markdown.ts";

/** The bullets of the section, by the folder each opens with (`""` for the root). */
function namedFiles(): Map<string, Set<string>> {
  const text = Deno.readTextFileSync(`${ROOT}docs/internals.md`);
  const start = text.indexOf("### Where things are in the source");
  assert.ok(start >= 0, "docs/internals.md has no section Where things are in the source");
  const end = text.indexOf("\n#", start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const named = new Map<string, Set<string>>();
  for (const bullet of section.split("\n- ").slice(1)) {
    const folder = /^\[`src\/([a-z_]*)\/?`\]/.exec(bullet);
    if (folder === null) continue;
    const files = new Set([...bullet.matchAll(/`([a-z0-9_]+\.ts)`/g)].map((m) => m[1]!));
    named.set(folder[1]!, files);
  }
  return named;
}

function sourceFiles(): Map<string, string[]> {
  const files = new Map<string, string[]>();
  const walk = (folder: string) => {
    for (const entry of Deno.readDirSync(`${ROOT}src/${folder}`)) {
      if (entry.isDirectory) walk(folder === "" ? entry.name : `${folder}/${entry.name}`);
      else if (entry.name.endsWith(".ts")) {
        files.set(folder, [...(files.get(folder) ?? []), entry.name].sort());
      }
    }
  };
  walk("");
  return files;
}

Deno.test("docs/internals.md names every file of src/ in its folder's line", () => {
  const named = namedFiles();
  const missing: string[] = [];
  for (const [folder, files] of sourceFiles()) {
    const listed = named.get(folder) ?? new Set<string>();
    for (const file of files) {
      if (!listed.has(file)) missing.push(folder === "" ? `src/${file}` : `src/${folder}/${file}`);
    }
  }
  assert.deepEqual(missing, [], 'add them to docs/internals.md "Where things are in the source"');
});

Deno.test("docs/internals.md names no file that src/ does not have", () => {
  const sources = sourceFiles();
  const stale: string[] = [];
  for (const [folder, files] of namedFiles()) {
    const present = new Set(sources.get(folder) ?? []);
    for (const file of files) if (!present.has(file)) stale.push(`src/${folder}/${file}`);
  }
  assert.deepEqual(stale, []);
});
