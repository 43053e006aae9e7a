/**
 * What a span stands for, and which event names mark it: shared by the flow
 * log's span tree (`query/flow_log.ts`) and the spans of the exports, `show` and the
 * timeline (`export/spans.ts`).
 *
 * @module
 */

/**
 * What a span stands for: a run, job or step (written by the lifecycle
 * observer or by hand as `run_start` … `step_end`), an `observable()` node
 * (`node_entry` / `node_exit` / `node_error`), or any other `span_id` span.
 */
export type SpanKind = "run" | "job" | "step" | "node" | "span";

// The names of LIFECYCLE_EVENTS (lifecycle_events.ts) and NODE_EVENTS
// (integrations/observable.ts), which sit above this file; tests/span_kind_test.ts pins
// them. Null prototype: an event named "constructor" marks nothing.
const KIND_OF_EVENT: Readonly<Record<string, SpanKind>> = Object.assign(
  Object.create(null) as Record<string, SpanKind>,
  {
    run_start: "run",
    run_end: "run",
    job_start: "job",
    job_end: "job",
    step_start: "step",
    step_end: "step",
    node_entry: "node",
    node_exit: "node",
    node_error: "node",
  },
);

/**
 * The kind of span an event name marks: `run`, `job` or `step` for their
 * `*_start` / `*_end` events, `node` for `node_entry`, `node_exit` and
 * `node_error`, else undefined.
 *
 * @example Kinds of event names
 * ```ts
 * import { spanKindOfEvent } from "./span_kind.ts";
 * import assert from "node:assert/strict";
 * assert.equal(spanKindOfEvent("job_end"), "job");
 * assert.equal(spanKindOfEvent("node_exit"), "node");
 * assert.equal(spanKindOfEvent("llm_call"), undefined);
 * assert.equal(spanKindOfEvent("constructor"), undefined);
 * ```
 */
export function spanKindOfEvent(event: string): SpanKind | undefined {
  return KIND_OF_EVENT[event];
}
