/**
 * Builds a {@linkcode FlowLog} (span tree and summary) from a flow's events.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { isLevelName, type LevelName, levelOfSeverity, SEVERITY } from "../level.ts";
import type { FlowLog, FlowSummary, SpanNode } from "./types.ts";
import { spanKindOfEvent } from "../span_kind.ts";

/**
 * Orders events by `ts_ms`, then `producer`, then `seq`: the order of query
 * results and of {@linkcode FlowLog.events}.
 *
 * @example Sort events
 * ```ts
 * import { compareEvents } from "./flow_log.ts";
 * import assert from "node:assert/strict";
 * const event = (ts_ms: number, producer: string, seq: number) => ({
 *   ts_ms, level: "info" as const, severity: 9, event: "e", producer, seq, fields: {},
 * });
 * const events = [event(2, "a", 1), event(1, "b", 2), event(1, "b", 1), event(1, "a", 9)];
 * assert.deepEqual(events.sort(compareEvents).map((e) => `${e.ts_ms}${e.producer}${e.seq}`), [
 *   "1a9", "1b1", "1b2", "2a1",
 * ]);
 * ```
 */
export function compareEvents(a: LogEvent, b: LogEvent): number {
  if (a.ts_ms !== b.ts_ms) return a.ts_ms < b.ts_ms ? -1 : 1;
  if (a.producer !== b.producer) return a.producer < b.producer ? -1 : 1;
  return a.seq - b.seq;
}

// Their `status` is the outcome of the span (other events may have a `status` of their own).
const END_EVENTS: ReadonlySet<string> = new Set(["run_end", "job_end", "step_end"]);

interface SpanDraft {
  node: SpanNode;
  /** Candidate names, first seen of each: node, step, job, run (in that preference). */
  nodeName: string | undefined;
  stepName: string | undefined;
  jobName: string | undefined;
  runName: string | undefined;
  stepType: string | undefined;
  /** The `status` of its last end event. */
  endStatus: unknown;
}

/**
 * Builds the flow log of `flowId` from its events, which must already be in
 * {@linkcode compareEvents} order. Pure: it reads the events and keeps them
 * (not copies) in the result.
 *
 * Spans come from string `fields.span_id`s; a span's `parent_id` is the first
 * string `fields.parent_id` among its events (other than its own id); its
 * `kind` is the one its first `run_*` / `job_*` / `step_*` / `node_*` event
 * marks, so a flow written with `observeRun()` and `observable()` reads as
 * run → job → step → node. A span
 * whose parent is not a span of this flow, or whose parent chain would loop
 * back to it, is a root; its `parent_id` still says what was recorded. Events
 * without a string `span_id` are in `events` and in no span. Roots and
 * children are ordered by their first event. With no events (an unknown
 * flow) the result has empty `events` and `spans` and a zeroed summary:
 * `first_ts_ms` and `last_ts_ms` null, counts 0.
 *
 * @example A parent span with one child
 * ```ts
 * import { buildFlowLog } from "./flow_log.ts";
 * import assert from "node:assert/strict";
 * const event = (ts_ms: number, event: string, fields: Record<string, unknown>) => ({
 *   ts_ms, level: "info" as const, severity: 9, event, producer: "p.1", seq: ts_ms, fields,
 * });
 * const log = buildFlowLog("f", [
 *   event(1, "run_start", { span_id: "run" }),
 *   event(2, "step_start", { span_id: "s1", parent_id: "run", node: "fetch" }),
 *   event(5, "step_end", { span_id: "s1", parent_id: "run", node: "fetch" }),
 *   event(6, "run_end", { span_id: "run" }),
 * ]);
 * assert.equal(log.spans.length, 1);
 * assert.equal(log.spans[0]?.children[0]?.name, "fetch");
 * assert.equal(log.spans[0]?.children[0]?.duration_ms, 3);
 * assert.equal(log.summary.duration_ms, 5);
 * ```
 */
export function buildFlowLog(flowId: string, events: LogEvent[]): FlowLog {
  return { flow_id: flowId, events, spans: buildSpans(events), summary: summarize(events) };
}

/**
 * Builds the flow log of `flowId` from its events in any order: sorts them
 * (in place) into {@linkcode compareEvents} order first, unless they already
 * are, as they mostly come from records written in time order.
 *
 * @example Events read out of order
 * ```ts
 * import { flowLogOf } from "./flow_log.ts";
 * import assert from "node:assert/strict";
 * const event = (ts_ms: number) => ({
 *   ts_ms, level: "info" as const, severity: 9, event: "e", producer: "p.1", seq: ts_ms, fields: {},
 * });
 * const log = flowLogOf("f", [event(2), event(1)]);
 * assert.deepEqual(log.events.map((e) => e.ts_ms), [1, 2]);
 * ```
 */
export function flowLogOf(flowId: string, events: LogEvent[]): FlowLog {
  if (!isSorted(events)) events.sort(compareEvents);
  return buildFlowLog(flowId, events);
}

function isSorted(events: readonly LogEvent[]): boolean {
  for (let i = 1; i < events.length; i++) {
    if (compareEvents(events[i - 1]!, events[i]!) > 0) return false;
  }
  return true;
}

function buildSpans(events: readonly LogEvent[]): SpanNode[] {
  const drafts = new Map<string, SpanDraft>();
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const fields = event.fields;
    const spanId = fields.span_id;
    if (typeof spanId !== "string") continue;
    let draft = drafts.get(spanId);
    if (draft === undefined) {
      draft = {
        node: {
          span_id: spanId,
          parent_id: null,
          name: event.event,
          start_ms: event.ts_ms,
          end_ms: event.ts_ms,
          duration_ms: 0,
          kind: "span",
          step_type: null,
          status: "ok",
          events: [],
          children: [],
        },
        nodeName: undefined,
        stepName: undefined,
        jobName: undefined,
        runName: undefined,
        stepType: undefined,
        endStatus: undefined,
      };
      drafts.set(spanId, draft);
    }
    const node = draft.node;
    node.events.push(i);
    if (event.ts_ms < node.start_ms) node.start_ms = event.ts_ms;
    if (event.ts_ms > node.end_ms) node.end_ms = event.ts_ms;
    const parentId = fields.parent_id;
    if (node.parent_id === null && typeof parentId === "string" && parentId !== spanId) {
      node.parent_id = parentId;
    }
    if (draft.nodeName === undefined && typeof fields.node === "string") {
      draft.nodeName = fields.node;
    }
    if (draft.stepName === undefined && typeof fields.step_id === "string") {
      draft.stepName = fields.step_id;
    }
    if (draft.jobName === undefined && typeof fields.job_id === "string") {
      draft.jobName = fields.job_id;
    }
    if (draft.runName === undefined && typeof fields.run_id === "string") {
      draft.runName = fields.run_id;
    }
    if (draft.stepType === undefined && typeof fields.step_type === "string") {
      draft.stepType = fields.step_type;
    }
    if (node.kind === "span") node.kind = spanKindOfEvent(event.event) ?? "span";
    if (END_EVENTS.has(event.event)) draft.endStatus = fields.status;
    if (event.severity >= SEVERITY.error || fields.status === "failed") node.status = "error";
  }

  const roots: SpanNode[] = [];
  // The parent each span was attached to, to refuse an attachment that closes a loop.
  const attachedTo = new Map<SpanNode, SpanNode>();
  for (const draft of drafts.values()) {
    const node = draft.node;
    node.name = draft.nodeName ?? draft.stepName ?? draft.jobName ?? draft.runName ?? node.name;
    if (node.kind === "step") node.step_type = draft.stepType ?? null;
    if (
      node.status !== "error" &&
      (draft.endStatus === "skipped" || draft.endStatus === "cancelled")
    ) {
      node.status = draft.endStatus;
    }
    node.duration_ms = node.end_ms - node.start_ms;
    const parent = node.parent_id === null ? undefined : drafts.get(node.parent_id)?.node;
    if (parent === undefined || closesLoop(node, parent, attachedTo)) {
      roots.push(node);
    } else {
      parent.children.push(node);
      attachedTo.set(node, parent);
    }
  }
  return roots;
}

function closesLoop(node: SpanNode, parent: SpanNode, attachedTo: Map<SpanNode, SpanNode>) {
  for (let at: SpanNode | undefined = parent; at !== undefined; at = attachedTo.get(at)) {
    if (at === node) return true;
  }
  return false;
}

function summarize(events: readonly LogEvent[]): FlowSummary {
  let first = Infinity;
  let last = -Infinity;
  let errors = 0;
  const byLevel = new Map<LevelName, number>();
  const byEvent = new Map<string, number>();
  const usage = {
    provider_calls: 0,
    input_tokens: 0,
    output_tokens: 0,
    total_tokens: 0,
    cost_usd: 0,
  };
  for (const event of events) {
    const u = event.fields.usage;
    if (typeof u === "object" && u !== null && !Array.isArray(u)) {
      addUsage(usage, u as Record<string, unknown>);
    }
    if (event.ts_ms < first) first = event.ts_ms;
    if (event.ts_ms > last) last = event.ts_ms;
    if (event.severity >= SEVERITY.error) errors++;
    const level = isLevelName(event.level) ? event.level : levelOfSeverity(event.severity);
    byLevel.set(level, (byLevel.get(level) ?? 0) + 1);
    byEvent.set(event.event, (byEvent.get(event.event) ?? 0) + 1);
  }
  const any = first <= last;
  return {
    first_ts_ms: any ? first : null,
    last_ts_ms: any ? last : null,
    duration_ms: any ? last - first : 0,
    event_count: events.length,
    error_count: errors,
    by_level: Object.fromEntries(byLevel),
    // fromEntries defines own properties, so an event named "__proto__" is just a key.
    by_event: Object.fromEntries(byEvent),
    ...usage,
  };
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/**
 * Adds one provider call's `usage: { input_tokens, output_tokens, total_tokens?, cost_usd }`
 * to `sum`: a missing or non-finite number counts 0, a missing `total_tokens` input + output.
 */
export function addUsage(
  sum: {
    provider_calls: number;
    input_tokens: number;
    output_tokens: number;
    total_tokens: number;
    cost_usd: number;
  },
  u: {
    readonly input_tokens?: unknown;
    readonly output_tokens?: unknown;
    readonly total_tokens?: unknown;
    readonly cost_usd?: unknown;
  },
): void {
  const input = num(u.input_tokens);
  const output = num(u.output_tokens);
  sum.provider_calls++;
  sum.input_tokens += input;
  sum.output_tokens += output;
  sum.total_tokens += u.total_tokens === undefined ? input + output : num(u.total_tokens);
  sum.cost_usd += num(u.cost_usd);
}
