/**
 * The per-node table in real headless Chromium: beside the timeline of one
 * flow (`view`), and over the flow's last runs with a histogram per node
 * (`view --runs N`), from a store the logger wrote with known durations.
 */
import assert from "node:assert/strict";
import { createLogger, observable, observeRun } from "../../mod.ts";
import { HISTOGRAM_BINS } from "../../src/export/node_table_html.ts";
import { cli } from "../cli/_run.ts";
import { runBrowserFixture } from "../support/fixture_process.ts";
import { withTempDir } from "../support/temp_dir.ts";

const FIXTURE = new URL("./fixtures/node_table_browser.ts", import.meta.url).pathname;

/**
 * Twelve runs of flow "agent": step fetch takes 10 ms × (run + 1), step parse
 * 5 ms (failed in run 9), node "<complete>" 100 ms then 200 ms in the last
 * two runs, with 40 input and 8 output tokens.
 */
async function writeRuns(dir: string): Promise<void> {
  const log = createLogger({ dir, transport: "inline", exitHooks: false });
  let clock = 0;
  const now = () => clock;
  const complete = observable((ms: number) => {
    clock += ms;
    return 8;
  }, {
    logger: log,
    node: "<complete>",
    category: "llm",
    now,
    provider: { name: "p", usage: (tokens) => ({ input_tokens: 40, output_tokens: tokens }) },
  });
  for (let r = 0; r < 12; r++) {
    const run = observeRun(log, {
      flow_id: "agent",
      run_id: `r-${String(r).padStart(2, "0")}`,
      now,
    });
    const job = run.job("main");
    await job.runStep("fetch", { step_type: "http" }, () => {
      clock += 10 * (r + 1);
    });
    const parse = job.step("parse", { step_type: "tool" });
    clock += 5;
    if (r === 9) parse.fail(new Error("bad page"));
    else parse.end();
    await job.runStep("answer", { step_type: "llm" }, () => complete(r >= 10 ? 200 : 100));
    job.end();
    run.end();
  }
  await log.close();
}

Deno.test("view shows the flow's per-node table beside its timeline, and view --runs N its last runs with histograms, in Chromium", async () => {
  await withTempDir(async (dir) => {
    await writeRuns(`${dir}/store`);
    const timeline = `${dir}/timeline.html`;
    const one = await cli("view", `${dir}/store`, "agent", "-o", timeline);
    assert.equal(one.code, 0, one.stderr);
    const runs = `${dir}/runs.html`;
    const last = await cli("view", `${dir}/store`, "agent", "--runs", "5", "-o", runs);
    assert.equal(last.code, 0, last.stderr);
    assert.match(last.stderr, /Wrote .*runs\.html \(5 runs, 4 nodes, 20 executions\)/);
    const seen = await runBrowserFixture(FIXTURE, [`${dir}/nodes.png`, timeline, runs]);
    assert.deepEqual(seen.requests, [`file://${timeline}`, `file://${runs}`]);
    const [flow, window] = seen.pages;

    // One flow: every run; no histogram column; beside the Gantt chart.
    // Beside the chart, a compact table: no p90, max or tokens.
    assert.deepEqual(flow.header, [
      "node",
      "count",
      "failed",
      "p50",
      "p99",
      "total",
      "share",
      "cost $",
    ]);
    assert.equal(flow.beside, true);
    const rows = Object.fromEntries(flow.rows.map((r: string[]) => [r[0], r]));
    // fetch: 10..120 ms over twelve runs, 780 ms in all.
    assert.deepEqual(rows["fetchstep: http"].slice(1, 3), ["12", "0"]);
    assert.equal(rows["fetchstep: http"][5], "780ms");
    assert.deepEqual(rows["parsestep: tool"].slice(1, 3), ["12", "1"]);
    // Markup in a node's name is text.
    assert.deepEqual(rows["<complete>node: llm"].slice(1, 3), ["12", "0"]);
    assert.equal(rows["<complete>node: llm"][5], "1.40s");
    assert.equal(flow.histograms.every((h: { bars: number }) => h.bars === 0), true);

    // The last five runs (r-07 to r-11): histograms, the slow node's two modes.
    assert.deepEqual(window.header, [
      "node",
      "count",
      "failed",
      "p50",
      "p90",
      "p99",
      "max",
      "total",
      "share",
      "tokens in/out",
      "cost $",
      "durations",
    ]);
    assert.equal(window.beside, null);
    const last5 = Object.fromEntries(window.rows.map((r: string[], i: number) => [r[0], i]));
    const fetch = window.rows[last5["fetchstep: http"]];
    assert.deepEqual([fetch[1], fetch[2], fetch[6], fetch[7]], ["5", "0", "120ms", "500ms"]);
    assert.equal(window.rows[last5["parsestep: tool"]][2], "1");
    assert.equal(window.rows[last5["<complete>node: llm"]][9], "200/40");
    const node = window.histograms[last5["<complete>node: llm"]];
    assert.deepEqual(node, { bars: HISTOGRAM_BINS, filled: 2, drawn: true });
    const fetchBars = window.histograms[last5["fetchstep: http"]];
    assert.deepEqual(fetchBars, { bars: HISTOGRAM_BINS, filled: 5, drawn: true });
    const shot = await Deno.readFile(`${dir}/nodes.png`);
    assert.deepEqual([...shot.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  });
});

Deno.test("view --runs refuses 0 and a flow without runs, with what to do", async () => {
  await withTempDir(async (dir) => {
    const log = createLogger({ dir, transport: "inline", exitHooks: false });
    log.child({ flow_id: "plain" }).info("step_end", { step_id: "s", duration_ms: 1 });
    await log.close();
    const zero = await cli("view", dir, "plain", "--runs", "0", "-o", "-");
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /Invalid --runs 0: give the number of last runs to show, 1 or more/);
    const none = await cli("view", dir, "plain", "--runs", "3", "-o", "-");
    assert.equal(none.code, 1);
    assert.match(none.stderr, /has no run_start event with a run_id: --runs needs runs recorded/);
    const unknown = await cli("view", dir, "nope", "--runs", "3", "-o", "-");
    assert.match(unknown.stderr, /Unknown flow "nope"/);
  });
});
