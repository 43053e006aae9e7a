/**
 * The timeline page in real headless Chromium: written by the `view` command
 * from a store the logger wrote, opened from disk, screenshot taken, spans
 * rendered, a click showing a span's events, and no network request.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../mod.ts";
import { buildFlowLog } from "../../src/query/flow_log.ts";
import { renderTimelineHtml } from "../../src/export/timeline_html.ts";
import { writeFlowStore } from "../support/flow_store.ts";
import { LIFECYCLE_FLOW, writeLifecycleStore } from "../support/lifecycle_store.ts";
import { cli } from "../cli/_run.ts";
import { runBrowserFixture } from "../support/fixture_process.ts";
import { makeEvent } from "../support/log_event.ts";

const FIXTURE = new URL("./fixtures/timeline_browser.ts", import.meta.url).pathname;

// Markup in a node name, an error message and a field: it must stay text.
const NODE = `<img src=x onerror="globalThis.pwned=1;alert(1)">`;
const MESSAGE = `</script><script>globalThis.pwned=2</script>\u2028<b>bold</b>`;
const STACK = `Error: ${MESSAGE}\n    at ${NODE}\n    at </pre><script>globalThis.pwned=3</script>`;

async function writeHostileStore(dir: string): Promise<void> {
  const log = createLogger({ dir, transport: "inline", exitHooks: false });
  const flow = log.child({ flow_id: "hostile" });
  flow.info("node_start", { span_id: "s1", node: NODE });
  flow.error("node_error", {
    span_id: "s1",
    node: NODE,
    error: { message: MESSAGE, stack: STACK },
    [NODE]: MESSAGE,
  });
  await log.close();
}

Deno.test("renderTimelineHtml() renders spans and shows a span's events on click in Chromium", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-view-" });
  try {
    await writeFlowStore(`${dir}/store`, { flows: 2, steps: 60, callsPerStep: 1 });
    await writeHostileStore(`${dir}/hostile`);
    const page = `${dir}/timeline.html`;
    const view = await cli("view", `${dir}/store`, "flow-0001", "-o", page);
    assert.equal(view.code, 0, view.stderr);
    const hostile = `${dir}/hostile.html`;
    const viewHostile = await cli("view", `${dir}/hostile`, "hostile", "-o", hostile);
    assert.equal(viewHostile.code, 0, viewHostile.stderr);
    await writeLifecycleStore(`${dir}/lifecycle`);
    const lifecycle = `${dir}/lifecycle.html`;
    const viewLifecycle = await cli(
      "view",
      `${dir}/lifecycle`,
      LIFECYCLE_FLOW.flow_id,
      "-o",
      lifecycle,
    );
    assert.equal(viewLifecycle.code, 0, viewLifecycle.stderr);
    const seen = await runBrowserFixture(FIXTURE, [
      page,
      `${dir}/timeline.png`,
      hostile,
      lifecycle,
    ]);
    // One run, the job its steps name, and 60 steps; the run, the job and step-49 failed.
    assert.equal(seen.rows, 62);
    assert.equal(seen.errorRows, 3);
    assert.equal(seen.okBars, 59);
    assert.equal(seen.errorMarksOnFailedStep, 1);
    assert.equal(seen.details.title, "step-49 (step: llm)");
    assert.equal(seen.details.message, "step 49 timed out");
    assert.deepEqual(seen.details.events, ["step_start", "llm_call", "step_end"]);
    assert.match(seen.details.lastFields, /"status": "failed"/);
    assert.equal(seen.selectedRows, 1);
    // One error event (step-49's step_end): the header counts it in the singular.
    assert.match(seen.summary, / · \d+ events · 1 error · \d+ spans$/);
    assert.deepEqual(
      seen.requests,
      [`file://${page}`, `file://${hostile}`, `file://${lifecycle}`],
      "the pages fetch nothing (the hostile <img> is never created)",
    );
    // Markup in names and values stays text: no element, no script, no dialog.
    assert.deepEqual(
      { ...seen.hostile, label: seen.hostile.label.startsWith(NODE), fields: undefined },
      {
        scripts: 2,
        images: 0,
        pwned: null,
        dialogs: [],
        label: true,
        message: MESSAGE,
        fields: undefined,
        stack: STACK,
      },
    );
    assert.equal(JSON.parse(seen.hostile.fields)[NODE], MESSAGE);
    // A flow written with observeRun() and observable(): kinds, step types,
    // statuses, the failing step's error on its job and run, and its stack
    // rendered on lines of their own.
    const f = LIFECYCLE_FLOW;
    const l = seen.lifecycle;
    assert.deepEqual(l.names, [
      f.run_id,
      "research",
      "plan",
      f.node,
      "publish",
      "validate",
      "post",
    ]);
    assert.deepEqual(l.kinds, [
      "run",
      "job",
      "step: llm",
      "node",
      "job",
      "step: tool",
      "step: http",
    ]);
    assert.deepEqual(l.bars, ["error", "ok", "ok", "ok", "error", "error", "skipped"]);
    assert.deepEqual(l.run, { title: `${f.run_id} (run)`, message: f.message });
    assert.deepEqual(l.job, { title: "publish (job)", message: f.message });
    assert.deepEqual(l.step, { title: "validate (step: tool)", message: f.message });
    assert.deepEqual(l.stackText.split("\n"), f.stack);
    assert.equal(l.stackLineBoxes, f.stack.length);
    const shot = await Deno.readFile(`${dir}/timeline.png`);
    assert.deepEqual([...shot.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    assert.ok(shot.length > 10_000, `screenshot of ${shot.length} bytes`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderTimelineHtml() keeps event text out of the markup", () => {
  const fields = { flow_id: "<flow>", run_id: "</script><script>alert(1)</script>", "\u2028": 1 };
  const html = renderTimelineHtml(
    buildFlowLog("<flow>", [makeEvent(1, fields, { event: "run_start", seq: 1 })]),
  );
  assert.ok(!html.includes("<script>alert"));
  assert.ok(html.includes("<title>flightlog · &lt;flow&gt;</title>"));
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  const data = html.match(/<script type="application\/json" id="flightlog-data">(.*?)<\/script>/s);
  const parsed = JSON.parse(data![1]!);
  assert.equal(parsed.spans[0].name, "</script><script>alert(1)</script>");
});
