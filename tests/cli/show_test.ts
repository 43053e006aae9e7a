/**
 * `flightlog show` (text and `--json`) on a flow written with `observeRun()`
 * and `observable()`: the run → job → step → node tree keeps its kinds,
 * statuses, step types, the failing step's error and the stack's lines.
 */
import assert from "node:assert/strict";
import { LIFECYCLE_FLOW, writeLifecycleStore } from "../support/lifecycle_store.ts";
import { cli } from "./_run.ts";

interface JsonSpan {
  name: string;
  kind: string;
  status: string;
  status_message: string | null;
  correlation: Record<string, string>;
  children: JsonSpan[];
}

/** Every span of the tree, depth first, with its depth. */
function flatten(spans: JsonSpan[], depth = 0): [JsonSpan, number][] {
  return spans.flatMap((
    s,
  ) => [[s, depth] as [JsonSpan, number], ...flatten(s.children, depth + 1)]);
}

Deno.test("show labels a lifecycle flow by kind, with statuses, step types, errors and stacks", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-show-" });
  try {
    await writeLifecycleStore(dir);
    const f = LIFECYCLE_FLOW;
    const [text, json] = await Promise.all([
      cli("show", dir, f.flow_id),
      cli("show", dir, f.flow_id, "--json"),
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(json.code, 0, json.stderr);
    const rows = text.stdout.split("\n");
    const spans = flatten(JSON.parse(json.stdout).spans);
    const byName = new Map(spans.map(([s]) => [s.name, s]));

    await t.step("kinds: run, job, step and node, not span", () => {
      assert.deepEqual(spans.map(([s, depth]) => [depth, s.name, s.kind]), [
        [0, f.run_id, "run"],
        [1, "research", "job"],
        [2, "plan", "step"],
        [3, f.node, "node"],
        [1, "publish", "job"],
        [2, "validate", "step"],
        [2, "post", "step"],
      ]);
      assert.match(rows[1]!, new RegExp(`^${f.run_id} \\(run\\) `));
      assert.match(text.stdout, /\n└─ publish \(job\) /);
      assert.match(text.stdout, /\n│ {2}└─ plan \(step: llm\) /);
      assert.match(text.stdout, new RegExp(`\\n│ {5}└─ ${f.node} \\(node\\) `));
    });

    await t.step("statuses: a node that returned is ok, a skipped step skipped", () => {
      assert.deepEqual(spans.map(([s]) => s.status), [
        "error",
        "ok",
        "ok",
        "ok",
        "error",
        "error",
        "skipped",
      ]);
      assert.match(text.stdout, new RegExp(`└─ ${f.node} \\(node\\) ok `));
      assert.match(text.stdout, /└─ post \(step: http\) skipped /);
    });

    await t.step("the failed job and run show the failing step's error", () => {
      for (const name of [f.run_id, "publish", "validate"]) {
        assert.equal(byName.get(name)?.status_message, f.message, name);
      }
      assert.match(rows[1]!, new RegExp(`\\(run\\) error \\S+ {2}\\d+ events {2}${f.message}$`));
      assert.match(text.stdout, new RegExp(`└─ publish \\(job\\) error .* {2}${f.message}\\n`));
      const tree = rows.slice(0, rows.findIndex((row) => row.startsWith("levels: ")));
      assert.doesNotMatch(tree.join("\n"), /run_end|job_end/);
    });

    await t.step("step_type: shown beside a step's kind", () => {
      assert.match(text.stdout, /└─ plan \(step: llm\) ok /);
      assert.match(text.stdout, /├─ validate \(step: tool\) error /);
      assert.equal(byName.get("plan")?.correlation.step_type, "llm");
    });

    await t.step("the stack: one real line per stack line, under the step that failed", () => {
      const at = rows.findIndex((row) => row.includes("validate (step: tool)"));
      assert.ok(at > 0, text.stdout);
      assert.deepEqual(rows.slice(at + 1, at + 1 + f.stack.length), [
        `   │    ${f.stack[0]}`,
        `   │        at checkLength (agent.ts:12:11)`,
        `   │        at validate (agent.ts:30:5)`,
      ]);
      assert.match(rows[at + 1 + f.stack.length]!, /^ {3}└─ post /);
      assert.ok(!text.stdout.includes("\\n"), "no escaped line break");
      // The stack is shown once, under the span that recorded it.
      assert.equal(text.stdout.split(f.stack[1]).length, 2);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
