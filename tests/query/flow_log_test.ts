import assert from "node:assert/strict";
import fc from "fast-check";
import type { LogEvent } from "../../src/event.ts";
import { buildFlowLog, compareEvents } from "../../src/query/flow_log.ts";
import type { LevelName } from "../../src/level.ts";
import type { SpanNode } from "../../src/query/types.ts";
import { makeEvent } from "../support/log_event.ts";
import { emptyFlowLog } from "../support/empty_flow_log.ts";

function event(
  ts_ms: number,
  name: string,
  fields: Record<string, unknown> = {},
  level: LevelName = "info",
): LogEvent {
  return makeEvent(ts_ms, { flow_id: "f", ...fields }, { event: name, level, seq: ts_ms });
}

/** The tree as nested [span_id, children] pairs. */
function shape(spans: SpanNode[]): unknown[] {
  return spans.map((s) => [s.span_id, shape(s.children)]);
}

Deno.test("buildFlowLog() builds the span tree with names, timing and status", () => {
  const events = [
    event(10, "run_start", { span_id: "run" }),
    event(11, "job_start", { span_id: "job", parent_id: "run", step_id: "job-1" }),
    event(12, "step_start", { span_id: "s1", parent_id: "job", node: "fetch", step_id: "x" }),
    event(15, "step_end", { span_id: "s1", parent_id: "job", node: "fetch" }),
    event(16, "step_start", { span_id: "s2", parent_id: "job" }),
    event(17, "note", { detail: "no span" }),
    event(18, "step_end", { span_id: "s2", parent_id: "job", status: "failed" }),
    event(19, "job_end", { span_id: "job", parent_id: "run" }),
    event(30, "run_end", { span_id: "run" }, "error"),
  ];
  const log = buildFlowLog("f", events);
  assert.equal(log.flow_id, "f");
  assert.equal(log.events, events);
  assert.deepEqual(shape(log.spans), [["run", [["job", [["s1", []], ["s2", []]]]]]]);
  const run = log.spans[0]!;
  const job = run.children[0]!;
  const [s1, s2] = job.children as [SpanNode, SpanNode];
  assert.deepEqual(
    { name: run.name, start: run.start_ms, end: run.end_ms, duration: run.duration_ms },
    { name: "run_start", start: 10, end: 30, duration: 20 },
  );
  assert.equal(run.parent_id, null);
  assert.equal(run.status, "error");
  assert.deepEqual(run.events, [0, 8]);
  assert.equal(job.name, "job-1");
  assert.equal(job.parent_id, "run");
  assert.equal(job.status, "ok");
  assert.deepEqual(job.events, [1, 7]);
  assert.equal(s1.name, "fetch");
  assert.equal(s1.duration_ms, 3);
  assert.equal(s1.status, "ok");
  assert.equal(s2.name, "step_start");
  assert.equal(s2.status, "error");
  assert.deepEqual(s2.events, [4, 6]);
  assert.ok(!log.spans.some((s) => s.events.includes(5)));
});

Deno.test("buildFlowLog() makes spans with an unknown parent roots and keeps their parent_id", () => {
  const log = buildFlowLog("f", [
    event(1, "a", { span_id: "a", parent_id: "elsewhere" }),
    event(2, "b", { span_id: "b", parent_id: "a" }),
    event(3, "c", { span_id: "c" }),
  ]);
  assert.deepEqual(shape(log.spans), [["a", [["b", []]]], ["c", []]]);
  assert.equal(log.spans[0]!.parent_id, "elsewhere");
});

Deno.test("buildFlowLog() breaks parent loops instead of losing spans", () => {
  const log = buildFlowLog("f", [
    event(1, "a", { span_id: "a", parent_id: "c" }),
    event(2, "b", { span_id: "b", parent_id: "a" }),
    event(3, "c", { span_id: "c", parent_id: "b" }),
    event(4, "self", { span_id: "self", parent_id: "self" }),
  ]);
  const seen: string[] = [];
  const walk = (spans: SpanNode[]) => {
    for (const s of spans) {
      seen.push(s.span_id);
      walk(s.children);
    }
  };
  walk(log.spans);
  assert.deepEqual(seen.sort(), ["a", "b", "c", "self"]);
  assert.equal(log.spans.find((s) => s.span_id === "self")?.parent_id, null);
});

Deno.test("buildFlowLog() never loses or duplicates a span", () => {
  const spanIds = ["a", "b", "c", "d", "e"];
  const arbitraryEvent = fc.record({
    span: fc.option(fc.constantFrom(...spanIds)),
    parent: fc.option(fc.constantFrom(...spanIds, "unknown")),
  });
  fc.assert(
    fc.property(fc.array(arbitraryEvent, { maxLength: 30 }), (drafts) => {
      const events = drafts.map((d, i) => {
        const fields: Record<string, unknown> = {};
        if (d.span !== null) fields.span_id = d.span;
        if (d.parent !== null) fields.parent_id = d.parent;
        return event(i, "e", fields);
      });
      const log = buildFlowLog("f", events);
      const seen: string[] = [];
      const indexes: number[] = [];
      const walk = (spans: SpanNode[]) => {
        for (const s of spans) {
          seen.push(s.span_id);
          indexes.push(...s.events);
          walk(s.children);
        }
      };
      walk(log.spans);
      const expected = [...new Set(drafts.flatMap((d) => (d.span === null ? [] : [d.span])))];
      assert.deepEqual(seen.sort(), expected.sort());
      const withSpan = drafts.flatMap((d, i) => (d.span === null ? [] : [i]));
      assert.deepEqual(indexes.sort((x, y) => x - y), withSpan);
    }),
  );
});

Deno.test("buildFlowLog() summarizes counts by level and event", () => {
  const log = buildFlowLog("f", [
    event(5, "start"),
    event(7, "retry", {}, "warn"),
    event(8, "retry", {}, "warn"),
    event(9, "__proto__", {}, "error"),
    event(12, "end", {}, "fatal"),
  ]);
  assert.deepEqual(log.summary, {
    first_ts_ms: 5,
    last_ts_ms: 12,
    duration_ms: 7,
    event_count: 5,
    error_count: 2,
    by_level: { info: 1, warn: 2, error: 1, fatal: 1 },
    by_event: Object.fromEntries([["start", 1], ["retry", 2], ["__proto__", 1], ["end", 1]]),
    provider_calls: 0,
    input_tokens: 0,
    output_tokens: 0,
    total_tokens: 0,
    cost_usd: 0,
  });
  assert.equal(Object.getPrototypeOf(log.summary.by_event), Object.prototype);
});

Deno.test("buildFlowLog() of no events is empty with a zeroed summary", () => {
  assert.deepEqual(buildFlowLog("unknown", []), emptyFlowLog("unknown"));
});

Deno.test("compareEvents() orders by ts_ms, then producer, then seq", () => {
  const a = { ...event(1, "x"), producer: "a", seq: 2 };
  const b = { ...event(1, "x"), producer: "a", seq: 10 };
  const c = { ...event(1, "x"), producer: "b", seq: 1 };
  const d = { ...event(2, "x"), producer: "a", seq: 1 };
  assert.deepEqual([d, c, b, a].sort(compareEvents), [a, b, c, d]);
  assert.equal(compareEvents(a, a), 0);
});

Deno.test("buildFlowLog() names job and run spans by job_id and run_id", () => {
  const ev = (seq: number, fields: Record<string, unknown>): LogEvent =>
    makeEvent(seq, fields, { event: "x", producer: "p", seq });
  const log = buildFlowLog("f", [
    ev(1, { run_id: "r-1", span_id: "a" }),
    ev(2, { run_id: "r-1", job_id: "research", span_id: "b", parent_id: "a" }),
    ev(3, { run_id: "r-1", job_id: "research", step_id: "plan", span_id: "c", parent_id: "b" }),
  ]);
  assert.equal(log.spans[0]!.name, "r-1");
  assert.equal(log.spans[0]!.children[0]!.name, "research");
  assert.equal(log.spans[0]!.children[0]!.children[0]!.name, "plan");
});

Deno.test("buildFlowLog() gives each span its kind, a step its step_type and a skipped step its status", () => {
  const run = { run_id: "r", span_id: "run" };
  const job = { ...run, job_id: "j", span_id: "job", parent_id: "run" };
  const step = (id: string) => ({ ...job, step_id: id, step_type: "http", span_id: id });
  const inStep = { ...step("a"), parent_id: "job" };
  const log = buildFlowLog("f", [
    event(1, "run_start", run),
    event(2, "job_start", job),
    event(3, "step_start", inStep),
    event(4, "node_entry", { ...inStep, node: "fetch", span_id: "n", parent_id: "a" }),
    event(5, "note", { ...inStep, span_id: "x", parent_id: "n", status: "cancelled" }),
    event(6, "node_exit", { ...inStep, node: "fetch", span_id: "n", parent_id: "a" }),
    event(7, "step_end", { ...inStep, status: "ok" }),
    event(8, "step_start", { ...step("b"), parent_id: "job" }),
    event(9, "step_end", { ...step("b"), parent_id: "job", status: "skipped" }),
    event(10, "step_start", { ...step("c"), parent_id: "job" }),
    event(11, "step_end", { ...step("c"), parent_id: "job", status: "cancelled" }),
    event(12, "job_end", { ...job, status: "cancelled" }),
    event(13, "run_end", { ...run, status: "ok" }),
  ]);
  const rows = (spans: SpanNode[]): unknown[] =>
    spans.flatMap((s) => [[s.name, s.kind, s.step_type, s.status], ...rows(s.children)]);
  assert.deepEqual(rows(log.spans), [
    ["r", "run", null, "ok"],
    ["j", "job", null, "cancelled"],
    ["a", "step", "http", "ok"],
    ["fetch", "node", null, "ok"],
    ["a", "span", null, "ok"],
    ["b", "step", "http", "skipped"],
    ["c", "step", "http", "cancelled"],
  ]);
});
