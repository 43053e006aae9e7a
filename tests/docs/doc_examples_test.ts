/**
 * Runs every TypeScript block of README.md and docs/ as a script, the way a
 * reader would paste it: in a fresh working directory of its own, importing
 * `"flightlog"` through the project's import map. (`deno check --doc-only
 * README.md docs/` in the test task type-checks the same blocks.)
 *
 * The `@std/log` block is marked `ignore` for `deno check`, which cannot
 * reach JSR; here it is type-checked and run against the vendored
 * `@std/log` 0.224.14 when that copy is present next to the project.
 */
import assert from "node:assert/strict";
import { type CodeBlock, codeBlocks, isScript, markdownFiles, ROOT } from "./_markdown.ts";

const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env", "--allow-net=127.0.0.1"];
// Where `ROOT/../shared` sits for the main checkout and for a worktree beside it.
const STD_LOG_CANDIDATES = [
  "../shared/vendor/std-log-0.224.14",
  "../../shared/vendor/std-log-0.224.14",
];

function scriptBlocks(): CodeBlock[] {
  return markdownFiles().flatMap((file) =>
    codeBlocks(file, Deno.readTextFileSync(`${ROOT}${file}`)).filter(isScript)
  );
}

async function deno(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code: out.code, output: text.decode(out.stdout) + text.decode(out.stderr) };
}

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-doc-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("every TypeScript block of README.md and docs/ runs as a script and exits 0", async () => {
  const blocks = scriptBlocks().filter((block) => !block.attributes.includes("ignore"));
  assert.ok(blocks.length >= 15, `only ${blocks.length} blocks found`);
  const failed: string[] = [];
  for (const block of blocks) {
    await inTempDir(async (dir) => {
      const script = `${dir}/example.${block.lang === "js" ? "js" : "ts"}`;
      await Deno.writeTextFile(script, block.code);
      // Type-checked by `deno check --doc-only` in the test task: not twice.
      const run = await deno(
        ["run", "--no-check", "--config", `${ROOT}deno.json`, ...PERMISSIONS, script],
        dir,
      );
      if (run.code !== 0) {
        failed.push(`${block.file}:${block.line} exit ${run.code}\n${run.output}`);
      }
    });
  }
  assert.deepEqual(failed, []);
});

Deno.test("the @std/log block of docs/std-log.md type-checks and runs against @std/log 0.224.14", async () => {
  const vendor = STD_LOG_CANDIDATES.map((path) => new URL(path, `file://${ROOT}`).pathname)
    .find((path) => {
      try {
        return Deno.statSync(`${path}/log/mod.ts`).isFile;
      } catch {
        return false;
      }
    });
  if (vendor === undefined) {
    console.log("No vendored @std/log 0.224.14 next to the project: block not run");
    return;
  }
  const [block, ...others] = scriptBlocks().filter((b) => b.code.includes(`from "@std/log"`));
  assert.ok(block !== undefined && others.length === 0, "one block imports @std/log");
  assert.ok(block.attributes.includes("ignore"), "deno check cannot reach JSR: mark it ignore");
  const vendored = JSON.parse(await Deno.readTextFile(`${vendor}/import_map.json`)) as {
    imports: Record<string, string>;
  };
  const imports: Record<string, string> = { flightlog: `${ROOT}mod.ts` };
  for (const [name, path] of Object.entries(vendored.imports)) {
    imports[name] = new URL(path, `file://${vendor}/`).pathname;
  }
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/import_map.json`, JSON.stringify({ imports }));
    await Deno.writeTextFile(`${dir}/example.ts`, block.code);
    const config = ["--config", `${ROOT}deno.json`, "--import-map", `${dir}/import_map.json`];
    const check = await deno(["check", ...config, "example.ts"], dir);
    assert.equal(check.code, 0, check.output);
    const run = await deno(["run", "--no-check", ...config, ...PERMISSIONS, "example.ts"], dir);
    assert.equal(run.code, 0, run.output);
    // What the page says the record becomes.
    const query = await deno(
      ["run", "--allow-read", `${ROOT}src/cli/main.ts`, "query", "logs", "--format", "jsonl"],
      dir,
    );
    assert.equal(query.code, 0, query.output);
    const [event] = query.output.trim().split("\n").map((line) => JSON.parse(line));
    assert.equal(event.level, "info");
    assert.equal(event.event, "user_signed_up");
    assert.deepEqual(event.fields, { user_id: 7, logger: "default", std_level: "INFO" });
  });
});
