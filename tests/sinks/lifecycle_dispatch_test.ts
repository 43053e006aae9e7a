import assert from "node:assert/strict";
import fc from "fast-check";
import { checkLifecycle, dispatchLifecycle } from "../../src/sinks/lifecycle_dispatch.ts";
import { BoundLogEvent, type LogEvent } from "../../src/event.ts";
import { LIFECYCLE_EVENTS, type MetricsSink } from "../../src/lifecycle_events.ts";
import { makeEvent } from "../support/log_event.ts";

function ev(event: string, fields: Record<string, unknown>): LogEvent {
  return makeEvent(0, fields, { event, producer: "p.0", seq: 1 });
}

function recorder(): { calls: unknown[][]; sink: MetricsSink } {
  const calls: unknown[][] = [];
  const sink: MetricsSink = {
    onRunStart: (r) => calls.push(["onRunStart", r]),
    onRunEnd: (r, e) => calls.push(["onRunEnd", r, e]),
    onJobStart: (j) => calls.push(["onJobStart", j]),
    onJobEnd: (j, e) => calls.push(["onJobEnd", j, e]),
    onStepStart: (s) => calls.push(["onStepStart", s]),
    onStepEnd: (s, e) => calls.push(["onStepEnd", s, e]),
  };
  return { calls, sink };
}

const RUN = { flow_id: "f", run_id: "r" };
const JOB = { ...RUN, job_id: "j" };
const STEP = { ...JOB, step_id: "s", step_type: "llm" };

Deno.test("dispatchLifecycle() calls each callback with the ids and the end info", () => {
  const { calls, sink } = recorder();
  const extra = { attempt: 2, node: "n" };
  const events = [
    ev(LIFECYCLE_EVENTS.runStart, { ...RUN, ...extra }),
    ev(LIFECYCLE_EVENTS.jobStart, JOB),
    ev(LIFECYCLE_EVENTS.stepStart, STEP),
    ev(LIFECYCLE_EVENTS.stepEnd, { ...STEP, status: "failed", duration_ms: 12 }),
    ev(LIFECYCLE_EVENTS.jobEnd, { ...JOB, status: "skipped", duration_ms: 0 }),
    ev(LIFECYCLE_EVENTS.runEnd, { ...RUN, status: "cancelled", duration_ms: 40.5 }),
  ];
  assert.deepEqual(events.map((e) => dispatchLifecycle(e, sink)), Array(6).fill("dispatched"));
  assert.deepEqual(calls, [
    ["onRunStart", RUN],
    ["onJobStart", JOB],
    ["onStepStart", STEP],
    ["onStepEnd", STEP, { status: "failed", duration_ms: 12 }],
    ["onJobEnd", JOB, { status: "skipped", duration_ms: 0 }],
    ["onRunEnd", RUN, { status: "cancelled", duration_ms: 40.5 }],
  ]);
});

Deno.test("dispatchLifecycle() ignores other events and run_summary", () => {
  const { calls, sink } = recorder();
  assert.equal(dispatchLifecycle(ev("llm_call", STEP), sink), "ignored");
  assert.equal(dispatchLifecycle(ev(LIFECYCLE_EVENTS.runSummary, RUN), sink), "ignored");
  assert.equal(calls.length, 0);
});

Deno.test("dispatchLifecycle() reports events missing ids, status or duration as malformed", () => {
  const { calls, sink } = recorder();
  const bad = [
    ev("run_start", { flow_id: "f" }),
    ev("run_start", { flow_id: "", run_id: "r" }),
    ev("job_start", RUN),
    ev("step_start", JOB),
    ev("step_end", { ...STEP, status: "ok" }),
    ev("step_end", { ...STEP, status: "done", duration_ms: 1 }),
    ev("step_end", { ...STEP, status: "ok", duration_ms: -1 }),
    ev("run_end", { ...RUN, status: "ok", duration_ms: NaN }),
    ev("job_end", { ...JOB, status: "ok", duration_ms: "5" }),
  ];
  for (const e of bad) assert.equal(dispatchLifecycle(e, sink), "malformed", JSON.stringify(e));
  assert.equal(calls.length, 0);
});

Deno.test("dispatchLifecycle() drops a non-string step_type and tolerates missing callbacks", () => {
  const seen: unknown[] = [];
  const sink: MetricsSink = { onStepStart: (s) => seen.push(s) };
  assert.equal(
    dispatchLifecycle(ev("step_start", { ...JOB, step_id: "s", step_type: 7 }), sink),
    "dispatched",
  );
  assert.equal(dispatchLifecycle(ev("run_start", RUN), sink), "dispatched");
  assert.deepEqual(seen, [{ ...JOB, step_id: "s" }]);
});

Deno.test("dispatchLifecycle() catches a throwing sink and says so", () => {
  const sink: MetricsSink = {
    onRunStart() {
      throw new Error("boom");
    },
  };
  assert.equal(dispatchLifecycle(ev("run_start", RUN), sink), "sink_error");
});

Deno.test("dispatchLifecycle() reads a child logger's event as merged: call fields win over bindings", () => {
  const { calls, sink } = recorder();
  const bindings = { ...JOB, step_id: "bound", step_type: "llm" };
  const call = { step_id: "s9", status: "ok", duration_ms: 5 };
  const e = new BoundLogEvent(0, "info", 9, "step_end", "p.0", 1, bindings, call);
  assert.equal(dispatchLifecycle(e, sink), "dispatched");
  assert.deepEqual(calls, [["onStepEnd", { ...JOB, step_id: "s9", step_type: "llm" }, {
    status: "ok",
    duration_ms: 5,
  }]]);
});

Deno.test("checkLifecycle() agrees with dispatchLifecycle() on any event (fast-check)", () => {
  const value = fc.oneof(
    fc.constantFrom("", "f", "ok", "failed", "skipped", "cancelled", "done"),
    fc.constantFrom(0, -1, 5, NaN, Infinity),
    fc.constant(undefined),
  );
  const keys = ["flow_id", "run_id", "job_id", "step_id", "step_type", "status", "duration_ms"];
  const fields = fc.record(Object.fromEntries(keys.map((k) => [k, value])), { requiredKeys: [] });
  const name = fc.constantFrom(...Object.values(LIFECYCLE_EVENTS), "other");
  fc.assert(
    fc.property(name, fields, fc.boolean(), (event, f, bound) => {
      const e = bound
        ? new BoundLogEvent(0, "info", 9, event, "p.0", 1, { flow_id: "bf", run_id: "br" }, f)
        : ev(event, f);
      const dispatched = dispatchLifecycle(e, {});
      const expected = dispatched === "dispatched" ? "valid" : dispatched;
      assert.equal(checkLifecycle(e), expected);
    }),
    { numRuns: 1000 },
  );
});
