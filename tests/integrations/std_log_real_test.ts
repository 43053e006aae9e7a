/**
 * The `@std/log` adapter against the real `@std/log` 0.224.14, kept
 * unmodified in `../shared/vendor/std-log-0.224.14/` beside the checkout
 * (`FLIGHTLOG_SHARED` names another `shared` folder, e.g. from a git
 * worktree) because JSR, its only registry, is not reachable: tests/integrations/std_log_test.ts runs
 * again in a subprocess whose import map puts the real `log/mod.ts` where the
 * stand-in was, so every adapter test runs, and type-checks, against it. A
 * clone without `../shared` says so once and skips this; the stand-in run
 * stays.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const SHARED = Deno.env.get("FLIGHTLOG_SHARED");
const VENDOR = new URL(
  "vendor/std-log-0.224.14/",
  SHARED ? new URL(`file://${SHARED.replace(/\/?$/, "/")}`) : new URL("../shared/", ROOT),
);
const STAND_IN = new URL("tests/support/std_log_stand_in.ts", ROOT);
const REAL = new URL("log/mod.ts", VENDOR);

const vendored = await Deno.stat(REAL).then(() => true, () => false);
if (!vendored) {
  console.log(
    `${VENDOR.pathname} is absent: the @std/log adapter is tested against the stand-in only`,
  );
}

/** The project's import map, the vendored one's entries, and the stand-in swapped for the real module. */
async function importMap(): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const vendor = JSON.parse(await Deno.readTextFile(new URL("import_map.json", VENDOR)));
  const imports: Record<string, string> = {};
  for (const [key, target] of Object.entries(config.imports as Record<string, string>)) {
    imports[key] = target.startsWith(".") ? new URL(target, ROOT).href : target;
  }
  for (const [key, target] of Object.entries(vendor.imports as Record<string, string>)) {
    imports[key] = new URL(target, VENDOR).href;
  }
  imports[STAND_IN.href] = REAL.href;
  return imports;
}

Deno.test({
  name:
    "getStdLogHandler() passes tests/integrations/std_log_test.ts with the real @std/log 0.224.14",
  ignore: !vendored,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "flightlog-std-log-" });
    try {
      const map = `${dir}/import_map.json`;
      await Deno.writeTextFile(map, JSON.stringify({ imports: await importMap() }));
      const run = (args: string[]) =>
        new Deno.Command(Deno.execPath(), {
          args: [...args, "--import-map", map, "tests/integrations/std_log_test.ts"],
          cwd: ROOT,
          env: { NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        }).output();
      // The swap took: the graph has the real module and not the stand-in.
      const info = await run(["info", "--json"]);
      assert.ok(info.success, new TextDecoder().decode(info.stderr));
      const graph = JSON.parse(new TextDecoder().decode(info.stdout));
      const modules = new Set(graph.modules.map((m: { specifier: string }) => m.specifier));
      assert.ok(modules.has(REAL.href), "the real @std/log is loaded");
      assert.ok(!modules.has(STAND_IN.href), "the stand-in is not");
      const test = await run(["test", "--allow-read", "--allow-write", "--allow-env"]);
      const out = new TextDecoder().decode(test.stdout) + new TextDecoder().decode(test.stderr);
      assert.ok(test.success, out);
      assert.match(out, /ok \| [1-9]\d* passed \| 0 failed/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
