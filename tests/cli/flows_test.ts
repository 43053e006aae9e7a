import assert from "node:assert/strict";
import { listFlowRows } from "../../src/cli/flows.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";
import { makeEvent } from "../support/log_event.ts";
import { createLogger } from "../../mod.ts";
import { cli } from "./_run.ts";

Deno.test("listFlowRows() gives each flow the status of its latest run, newest flow first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-flows-" });
  try {
    const store = SegmentStore.open(dir);
    let seq = 0;
    const e = (ts: number, flow: string, event: string, fields = {}, level = "info" as const) =>
      makeEvent(ts, { flow_id: flow, ...fields }, { event, seq: ++seq, level });
    store.append([e(1, "done", "run_start"), e(2, "plain", "note")]);
    store.append([e(3, "done", "run_end", { status: "ok" }), e(4, "live", "run_start")]);
    store.append([e(5, "again", "run_end", { status: "failed" }), e(6, "again", "run_start")]);
    store.append([e(7, "broken", "oops", {}, "error" as never)]);
    store.append([e(8, "done", "run_summary")]);
    store.close();
    const { rows, damage } = listFlowRows(dir);
    assert.equal(damage.regions, 0);
    assert.deepEqual(
      rows.map((r) => [r.flow_id, r.status, r.start_ms, r.duration_ms, r.events, r.errors]),
      [
        ["broken", "errors", 7, 0, 1, 1],
        ["again", "running", 5, 1, 2, 0],
        ["live", "running", 4, 0, 1, 0],
        ["plain", "-", 2, 0, 1, 0],
        ["done", "ok", 1, 7, 3, 0],
      ],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flowsCommand() and verifyCommand() read a store while its logger is still open", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-flows-live-" });
  const log = createLogger({ dir, exitHooks: false });
  try {
    const flow = log.child({ flow_id: "live", run_id: "r" });
    flow.info("run_start");
    flow.info("step_end", { step_id: "s", status: "ok" });
    await log.flush();
    const flows = await cli("flows", dir, "--json");
    assert.equal(flows.code, 0, flows.stderr);
    assert.deepEqual(
      JSON.parse(flows.stdout).map((r: Record<string, unknown>) => [r.flow_id, r.status, r.events]),
      [["live", "running", 2]],
    );
    const verify = await cli("verify", dir);
    assert.equal(verify.code, 0, verify.stdout);
    flow.info("run_end", { status: "ok" });
    await log.flush();
    const again = await cli("flows", dir, "--json");
    assert.equal(JSON.parse(again.stdout)[0].status, "ok");
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("listFlowRows() and log.listFlows() agree on every flow: one computation", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-flows-same-" });
  let now = 100;
  const log = createLogger({ dir, exitHooks: false, transport: "inline", clock: () => now++ });
  let listed;
  try {
    const run = (flow: string, run: string, end: string | null) => {
      const f = log.child({ flow_id: flow, run_id: run });
      f.info("run_start");
      f.error("step_end", { status: "failed" });
      if (end !== null) f.info("run_end", { status: end });
    };
    run("a", "r-1", "ok");
    run("b", "r-2", null);
    run("c", "r-3", "cancelled");
    log.child({ flow_id: "d" }).error("boom");
    log.child({ flow_id: "e" }).info("note");
    listed = (await log.listFlows()).flows;
  } finally {
    await log.close();
  }
  try {
    const { rows } = listFlowRows(dir);
    const fromCli = rows.map((
      r,
    ) => [r.flow_id, r.status, r.start_ms, r.duration_ms, r.events, r.errors])
      .sort();
    const fromApi = listed.map((f) => [
      f.flow_id,
      f.status,
      f.first_ts_ms,
      f.last_ts_ms - f.first_ts_ms,
      f.event_count,
      f.error_count,
    ]).sort();
    assert.deepEqual(fromApi, fromCli);
    assert.deepEqual(fromApi.map((r) => r[1]), ["ok", "running", "cancelled", "errors", "-"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
