/**
 * The README stays a front door (short, narrow, nothing internal), every
 * relative link of the README and `docs/` leads somewhere, and every
 * guarantee in `docs/reliability.md` names a test that exists.
 */
import assert from "node:assert/strict";
import { anchors, links, markdownFiles, prose, ROOT } from "./_markdown.ts";

const MAX_README_LINES = 250;
const MAX_COLUMNS = 100;

function read(file: string): string {
  return Deno.readTextFileSync(`${ROOT}${file}`);
}

Deno.test("README.md has at most 250 lines", () => {
  const lines = read("README.md").trimEnd().split("\n");
  assert.ok(
    lines.length <= MAX_README_LINES,
    `README.md has ${lines.length} lines: move detail into docs/`,
  );
});

Deno.test("README.md and docs/ have no line wider than 100 characters", () => {
  const wide: string[] = [];
  for (const file of markdownFiles()) {
    read(file).split("\n").forEach((line, i) => {
      // Characters, not UTF-16 units or bytes: "→" is one column.
      const width = [...line].length;
      if (width > MAX_COLUMNS) wide.push(`${file}:${i + 1} (${width})`);
    });
  }
  assert.deepEqual(wide, [], "wrap these lines, or turn a wide table into a list");
});

Deno.test("README.md keeps the two commands of a fresh checkout", () => {
  const readme = read("README.md");
  assert.ok(readme.includes("npm ci && npx deno task demo"));
  assert.ok(readme.includes("npm ci && npx deno task test"));
});

Deno.test("README.md says nothing internal", () => {
  const text = prose(read("README.md"));
  const internal: [RegExp, string][] = [
    [/\bissue\s+#?\d+/i, "an issue number"],
    [/(^|[\s(])(I|I'm|I've|we|We|our|Our|us|my|My|mine)(?=[\s,.;:)])/m, "first person"],
    [/\bbelow\b.*\bDecisions\b|\bDecisions below\b/, "a section that does not exist"],
    [/\bbranch\b/i, "a development branch"],
    [/\bsession\b/i, "a work session"],
  ];
  const found = internal.filter(([pattern]) => pattern.test(text)).map(([, what]) => what);
  assert.deepEqual(found, []);
});

Deno.test("every relative link of README.md and docs/ points at an existing file and anchor", () => {
  const broken: string[] = [];
  for (const file of markdownFiles()) {
    const dir = new URL(file, `file://${ROOT}`);
    for (const { line, target } of links(read(file))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [path, anchor] = target.split("#", 2) as [string, string | undefined];
      const url = path === "" ? dir : new URL(path, dir);
      let ok = true;
      try {
        Deno.statSync(url);
      } catch {
        ok = false;
      }
      if (ok && anchor !== undefined) {
        ok = url.pathname.endsWith(".md") &&
          anchors(Deno.readTextFileSync(url)).has(decodeURIComponent(anchor));
      }
      if (!ok) broken.push(`${file}:${line} ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});

Deno.test("every guarantee in docs/reliability.md names tests that exist", () => {
  const page = read("docs/reliability.md");
  const section = /\n## Guarantees\n([\s\S]*?)\n## /.exec(page)?.[1];
  assert.ok(section !== undefined, "docs/reliability.md has a Guarantees section");
  const items = section.split(/\n(?=- )/).filter((item) => item.startsWith("- "));
  assert.ok(items.length >= 60, `only ${items.length} guarantees listed`);
  const problems: string[] = [];
  for (const raw of items) {
    const item = raw.replace(/\s+/g, " ");
    const claim = item.slice(2, 60);
    const at = item.indexOf("Tested by");
    if (at < 0) {
      problems.push(`${claim}…: no "Tested by"`);
      continue;
    }
    const backing = item.slice(at);
    const files = [...backing.matchAll(/\]\(\.\.\/(tests\/[\w/]+\.ts)\)/g)].map((m) => m[1]!);
    if (files.length === 0) problems.push(`${claim}…: no test file linked`);
    const sources = files.map((f) => read(f));
    // A quoted test name (parts around "…" elided) must be in one of the linked files.
    for (const [, name] of backing.matchAll(/"([^"]+)"/g)) {
      const parts = name!.split("…").map((p) => p.trim()).filter((p) => p !== "");
      if (!sources.some((src) => parts.every((part) => src.includes(part)))) {
        problems.push(`${claim}…: no test named "${name}" in ${files.join(", ")}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
