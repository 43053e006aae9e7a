import assert from "node:assert/strict";
import { configure, getLogger, resetConfiguration } from "../../mod.ts";
import { cli } from "./_run.ts";

Deno.test("query --category keeps the category and those below it by whole parts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-cli-category-" });
  try {
    await configure({ dir, transport: "inline", exitHooks: false });
    for (const category of ["cli-lib", "cli-lib.db", "cli-library", "other"]) {
      getLogger(category).info("e", { n: category.length });
    }
    await resetConfiguration();
    const run = await cli("query", dir, "--category", "cli-lib", "--format", "jsonl");
    assert.equal(run.code, 0, run.stderr);
    const categories = run.stdout.trim().split("\n").map((line) =>
      JSON.parse(line).fields.category
    );
    assert.deepEqual(categories, ["cli-lib", "cli-lib.db"]);
  } finally {
    await resetConfiguration();
    await Deno.remove(dir, { recursive: true });
  }
});
