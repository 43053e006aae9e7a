import assert from "node:assert/strict";
import fc from "fast-check";
import type { LogEvent } from "../../src/event.ts";
import type { LevelName } from "../../src/level.ts";
import {
  clearSpanContextCache,
  collectSpans,
  deriveSpanId,
  deriveTraceId,
  errorStackOf,
  spanContextOf,
  traceIdOf,
  type TraceSpan,
} from "../../src/export/spans.ts";
import { makeEvent } from "../support/log_event.ts";

function event(
  ts_ms: number,
  name: string,
  fields: Record<string, unknown>,
  level: LevelName = "info",
): LogEvent {
  return makeEvent(ts_ms, { flow_id: "f", run_id: "r", ...fields }, {
    event: name,
    level,
    seq: ts_ms,
  });
}

function stepOf(spans: TraceSpan[]): TraceSpan | undefined {
  return spans.find((s) => s.kind === "step");
}

Deno.test("collectSpans() makes up the job and run that steps name but no event belongs to", () => {
  const spans = collectSpans([
    event(2, "step_end", { job_id: "j", step_id: "a", duration_ms: 1 }),
    event(9, "step_end", { job_id: "j", step_id: "b", status: "failed", duration_ms: 2 }),
  ]);
  assert.deepEqual(
    spans.map((s) => [s.kind, s.name, s.start_ms, s.end_ms, s.status, s.synthetic]),
    [
      ["run", "r", 1, 9, "error", true],
      ["job", "j", 1, 9, "error", true],
      ["step", "a", 1, 2, "unset", false],
      ["step", "b", 7, 9, "error", false],
    ],
  );
  assert.equal(spans[1]?.parent_span_id, spans[0]?.span_id);
  assert.equal(spans[2]?.parent_span_id, spans[1]?.span_id);
  assert.deepEqual(spans[0]?.events, []);
});

Deno.test("collectSpans() builds runs, jobs and steps from their lifecycle events", () => {
  const spans = collectSpans([
    event(1, "run_start", {}),
    event(2, "job_start", { job_id: "j" }),
    event(3, "step_start", { job_id: "j", step_id: "s1" }),
    event(4, "tool_call", { job_id: "j", step_id: "s1", tool: "grep" }),
    event(6, "step_end", { job_id: "j", step_id: "s1", status: "ok" }),
    event(7, "step_end", { job_id: "j", step_id: "s2", status: "skipped", duration_ms: 0 }),
    event(8, "job_end", { job_id: "j", status: "cancelled" }),
    event(9, "run_end", { status: "ok" }),
  ]);
  const byName = new Map(spans.map((s) => [s.name, s]));
  assert.deepEqual(spans.map((s) => [s.kind, s.name, s.start_ms, s.end_ms, s.status]), [
    ["run", "r", 1, 9, "ok"],
    ["job", "j", 2, 8, "cancelled"],
    ["step", "s1", 3, 6, "ok"],
    ["step", "s2", 7, 7, "skipped"],
  ]);
  assert.equal(byName.get("j")?.parent_span_id, byName.get("r")?.span_id);
  assert.equal(byName.get("s1")?.parent_span_id, byName.get("j")?.span_id);
  assert.equal(byName.get("r")?.parent_span_id, null);
  assert.deepEqual(byName.get("s1")?.events.map((e) => e.event), [
    "step_start",
    "tool_call",
    "step_end",
  ]);
  assert.equal(new Set(spans.map((s) => s.trace_id)).size, 1);
});

Deno.test("collectSpans() starts a span without a start event at its end minus duration_ms", () => {
  const step = stepOf(collectSpans([event(100, "step_end", { step_id: "s", duration_ms: 40 })]));
  assert.equal(step?.start_ms, 60);
  assert.equal(step?.end_ms, 100);
  assert.equal(step?.incomplete, false);
});

Deno.test("collectSpans() marks a started span without an end event incomplete", () => {
  const step = stepOf(collectSpans([
    event(1, "step_start", { step_id: "s" }),
    event(5, "progress", { step_id: "s" }),
  ]));
  assert.equal(step?.incomplete, true);
  assert.equal(step?.end_ms, 5);
  assert.equal(step?.status, "unset");
});

Deno.test("collectSpans() marks a span with an error event as an error with its message", () => {
  const step = stepOf(collectSpans([
    event(1, "step_start", { step_id: "s" }),
    event(2, "oops", { step_id: "s", error: { name: "Error", message: "boom" } }, "error"),
    event(3, "step_end", { step_id: "s", status: "ok" }),
  ]));
  assert.equal(step?.status, "error");
  assert.equal(step?.status_message, "boom");
});

Deno.test("collectSpans() reads an error logged as err, as log.error(err) records it", () => {
  const step = stepOf(collectSpans([
    event(1, "step_start", { step_id: "s" }),
    event(
      2,
      "error",
      { step_id: "s", err: { message: "boom", stack: "Error: boom\n    at f" } },
      "error",
    ),
    event(3, "step_end", { step_id: "s", status: "ok" }),
  ]));
  assert.equal(step?.status_message, "boom");
  assert.equal(errorStackOf(step!), "Error: boom\n    at f");
});

Deno.test("collectSpans() builds span_id spans under their parent_id or their step", () => {
  const spans = collectSpans([
    event(1, "step_start", { step_id: "s" }),
    event(2, "llm_start", { step_id: "s", span_id: "call-1", node: "planner" }),
    event(3, "tool", { span_id: "call-2", parent_id: "call-1" }),
    event(4, "llm_end", { step_id: "s", span_id: "call-1" }),
    event(5, "step_end", { step_id: "s" }),
  ]);
  const byName = new Map(spans.map((s) => [s.name, s]));
  assert.equal(byName.get("planner")?.kind, "span");
  assert.equal(byName.get("planner")?.parent_span_id, byName.get("s")?.span_id);
  assert.equal(byName.get("call-2")?.parent_span_id, byName.get("planner")?.span_id);
  assert.equal(byName.get("planner")?.start_ms, 2);
  assert.equal(byName.get("planner")?.end_ms, 4);
});

Deno.test("collectSpans() gives the same ids whether a flow's events come in one batch or several", () => {
  const events = [
    event(1, "run_start", {}),
    event(2, "step_start", { step_id: "s" }),
    event(3, "step_end", { step_id: "s" }),
    event(4, "run_end", {}),
  ];
  const real = (spans: TraceSpan[]) => spans.filter((s) => !s.synthetic);
  const whole = real(collectSpans(events)).map((s) => [s.span_id, s.parent_span_id, s.trace_id]);
  const split = real([
    ...collectSpans(events.slice(0, 1)),
    ...collectSpans(events.slice(1, 3)),
  ]).map((s) => [s.span_id, s.parent_span_id, s.trace_id]);
  assert.deepEqual(split, whole);
  assert.deepEqual(
    collectSpans([...events].reverse()).map((s) => s.span_id),
    whole.map((w) => w[0]),
  );
});

Deno.test("deriveTraceId() and deriveSpanId() keep hex ids and hash other text to OpenTelemetry sizes", () => {
  assert.equal(
    deriveTraceId("4BF92F3577B34DA6A3CE929D0E0E4736"),
    "4bf92f3577b34da6a3ce929d0e0e4736",
  );
  assert.match(deriveTraceId("0".repeat(32)), /^(?!0{32})[0-9a-f]{32}$/);
  assert.match(deriveSpanId("f", "step 1"), /^[0-9a-f]{16}$/);
  assert.notEqual(deriveSpanId("f", "a"), deriveSpanId("f", "b"));
  const ids = new Set<string>();
  for (let i = 0; i < 10_000; i++) ids.add(deriveSpanId("f", `s${i}`));
  assert.equal(ids.size, 10_000);
});

Deno.test("traceIdOf() uses trace_id, else flow_id, else run_id", () => {
  assert.equal(traceIdOf({ trace_id: "a".repeat(32), flow_id: "f" }), "a".repeat(32));
  assert.equal(traceIdOf({ flow_id: "f", run_id: "1" }), traceIdOf({ flow_id: "f", run_id: "2" }));
  assert.notEqual(traceIdOf({ run_id: "1" }), traceIdOf({ run_id: "2" }));
  assert.equal(spanContextOf({ flow_id: "f" }), null);
});

Deno.test("spanContextOf() gives from its cache exactly the ids it derives afresh", () => {
  const id = fc.oneof(
    fc.constantFrom(
      "f",
      "1:f",
      "-",
      "",
      "f\u0000",
      "00f067aa0ba902b7",
      "4bf92f3577b34da6a3ce929d0e0e4736",
    ),
    fc.integer({ min: -1, max: 1 }),
    fc.constant(undefined),
  );
  const fields = fc.record({
    flow_id: id,
    run_id: id,
    job_id: id,
    step_id: id,
    span_id: id,
    parent_id: id,
    trace_id: id,
  }, { requiredKeys: [] });
  fc.assert(
    fc.property(fc.array(fields, { minLength: 1, maxLength: 20 }), (all) => {
      // Warm: each lookup may hit what an earlier, different tuple left in the cache.
      const warm = all.map((f) => spanContextOf(f));
      const fresh = all.map((f) => {
        clearSpanContextCache();
        return spanContextOf(f);
      });
      assert.deepEqual(warm, fresh);
    }),
    { numRuns: 300 },
  );
});

Deno.test("collectSpans() names a span_id span by its span_id when its step_end has no step_id", () => {
  const spans = collectSpans([
    makeEvent(1, { span_id: "call-1" }, { event: "step_start" }),
    makeEvent(2, { span_id: "call-1", status: "ok" }, { event: "step_end" }),
    event(3, "step_end", { span_id: "call-2" }),
  ]);
  // Its step_start / step_end make it a step, named by its span_id.
  assert.deepEqual(spans.map((s) => [s.kind, s.name]), [["step", "call-1"], ["step", "call-2"]]);
});

Deno.test("collectSpans() names a step by its step_id when that is a number", () => {
  const spans = collectSpans([event(1, "step_end", { step_id: 7, status: "ok" })]);
  assert.equal(spans.find((s) => s.kind === "step")?.name, "7");
});

/** Events as observeRun() and observable() write them: every one with a span_id. */
function lifecycleFlow(): LogEvent[] {
  const run = { span_id: "run", trace_id: "a".repeat(32) };
  const job = { ...run, job_id: "j", span_id: "job", parent_id: "run" };
  const step = { ...job, step_id: "s", step_type: "llm", span_id: "step", parent_id: "job" };
  const node = { ...step, node: "llm.ask", span_id: "node", parent_id: "step" };
  return [
    event(1, "run_start", run),
    event(2, "job_start", job),
    event(3, "step_start", step),
    event(4, "node_entry", node),
    event(5, "tool_call", { ...step, span_id: "other", parent_id: "node" }),
    event(6, "node_exit", { ...node, duration_ms: 2 }),
    event(7, "step_end", { ...step, status: "ok", duration_ms: 4 }),
    event(8, "job_end", { ...job, status: "ok", duration_ms: 6 }),
    event(9, "run_end", { ...run, status: "ok", duration_ms: 8 }),
  ];
}

Deno.test("collectSpans() labels span_id spans run, job, step and node by their events", () => {
  const spans = collectSpans(lifecycleFlow());
  assert.deepEqual(spans.map((s) => [s.name, s.kind, s.synthetic]), [
    ["r", "run", false],
    ["j", "job", false],
    ["s", "step", false],
    ["llm.ask", "node", false],
    ["other", "span", false],
  ]);
  assert.equal(spans[3]?.parent_span_id, spans[2]?.span_id);
});

Deno.test("collectSpans() gives a node that returned ok, a running node unset, a failed one error", () => {
  const node = (span_id: string) => ({ span_id, node: `n-${span_id}` });
  const spans = collectSpans([
    event(1, "node_entry", node("a")),
    event(2, "node_exit", { ...node("a"), duration_ms: 1 }),
    event(3, "node_entry", node("b")),
    event(4, "node_entry", node("c")),
    event(5, "node_error", { ...node("c"), error: { message: "boom" } }, "error"),
  ]);
  assert.deepEqual(spans.map((s) => [s.name, s.kind, s.status, s.status_message]), [
    ["n-a", "node", "ok", null],
    ["n-b", "node", "unset", null],
    ["n-c", "node", "error", "boom"],
  ]);
});

Deno.test("collectSpans() gives a failed job and run the message of the step that failed them", () => {
  const failedStep = (ts: number, job_id: string, step_id: string, message: string) =>
    event(ts, "step_end", {
      job_id,
      step_id,
      status: "failed",
      error: { message, stack: `Error: ${message}\n    at x` },
    }, "error");
  const flow = (jobEnd: Record<string, unknown>, runEnd: Record<string, unknown>) =>
    collectSpans([
      event(1, "run_start", {}),
      event(2, "job_start", { job_id: "k" }),
      failedStep(3, "k", "other", "in another job"),
      event(4, "job_end", { job_id: "k", status: "failed" }),
      event(5, "job_start", { job_id: "j" }),
      failedStep(6, "j", "s1", "first"),
      failedStep(7, "j", "s2", "second"),
      event(8, "job_end", { job_id: "j", status: "failed", ...jobEnd }),
      event(9, "run_end", { status: "failed", ...runEnd }),
    ]);
  const messages = (spans: TraceSpan[]) =>
    Object.fromEntries(
      spans.filter((s) => s.kind !== "step").map((s) => [s.name, s.status_message]),
    );
  // The ones the end events name, as observeRun() writes them...
  assert.deepEqual(
    messages(flow({ failed_step_id: "s2" }, { failed_job_id: "j", failed_step_id: "s2" })),
    { r: "second", k: "in another job", j: "second" },
  );
  // ...else the first failed child.
  assert.deepEqual(messages(flow({}, {})), {
    r: "in another job",
    k: "in another job",
    j: "first",
  });
  // A message of its own stands.
  assert.equal(messages(flow({}, { error: "run's own" })).r, "run's own");
});

Deno.test("collectSpans() names a failed span's first error event when no child explains it", () => {
  const spans = collectSpans([
    event(1, "run_start", {}),
    event(2, "step_end", { job_id: "j", step_id: "s", status: "failed" }, "error"),
    event(3, "run_end", { status: "failed" }),
  ]);
  assert.deepEqual(spans.map((s) => [s.kind, s.status, s.status_message]), [
    ["run", "error", "run_end"],
    ["job", "error", null],
    ["step", "error", "step_end"],
  ]);
});

Deno.test("collectSpans() carries a message up a chain of 20,000 nested nodes", () => {
  const n = 20_000;
  const events: LogEvent[] = [];
  for (let i = 0; i < n; i++) {
    const fields = { span_id: `n${i}`, parent_id: i === 0 ? "none" : `n${i - 1}` };
    events.push(event(i, "node_entry", fields));
    if (i === n - 1) events.push(event(i, "node_error", { ...fields, error: "deep" }, "error"));
    events.push(event(i, "node_error", fields, "error"));
  }
  const spans = collectSpans(events);
  assert.equal(spans.length, n);
  assert.ok(spans.every((s) => s.status_message === "deep"));
});

Deno.test("collectSpans() takes no event named after an Object.prototype member as a start", () => {
  const span = (ts: number, name: string) => event(ts, name, { span_id: "s" });
  const [s] = collectSpans([span(1, "a"), span(5, "toString"), span(9, "constructor")]);
  assert.equal(s?.start_ms, 1);
  assert.equal(s?.start_event, null);
  assert.equal(s?.end_event, null);
  assert.equal(s?.kind, "span");
});

Deno.test("collectSpans() makes up no parent for a span_id step whose job is in another batch", () => {
  const step = { job_id: "j", step_id: "s", span_id: "step", parent_id: "job" };
  const spans = collectSpans([
    event(1, "step_start", step),
    event(2, "step_end", { ...step, status: "ok" }),
  ]);
  // The job's span (id "job") is exported with its own batch: a made-up one would duplicate it.
  assert.deepEqual(spans.map((s) => [s.kind, s.name, s.synthetic]), [["step", "s", false]]);
  assert.equal(spans[0]?.parent_span_id, deriveSpanId("f", "job"));
});

Deno.test("collectSpans() makes a run's span_id span with its own trace_id and no parent_id a root", () => {
  const trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  // What observeRun() writes for a run started without a traceparent.
  const run = collectSpans([
    event(1, "run_start", { trace_id, span_id: "1a2b3c4d00000001" }),
    event(2, "run_end", { trace_id, span_id: "1a2b3c4d00000001", status: "ok" }),
  ]);
  assert.deepEqual(run.map((s) => [s.name, s.parent_span_id]), [["r", null]]);
  // Without a trace_id the ids are derived, and so is the run the span hangs under.
  const [tool] = collectSpans([event(1, "tool_call", { span_id: "tool-1" })]);
  assert.equal(tool?.parent_span_id, spanContextOf({ flow_id: "f", run_id: "r" })?.span_id);
});
