/**
 * Spans of a set of events, shaped for tracing tools: OpenTelemetry-sized ids
 * (given or derived), start and end times, status, and the events inside each
 * span. Shared by the OTLP trace export and the HTML timeline.
 *
 * ## Which span an event belongs to
 *
 * 1. A string `span_id` field: the span of that id.
 * 2. Else a `step_id`: the step's span; else a `job_id`: the job's; else a
 *    `run_id`: the run's.
 * 3. Else none: the event is in no span.
 *
 * ## Kinds, statuses and messages
 *
 * A span is a `"run"`, `"job"` or `"step"` when its events include that
 * kind's `*_start` or `*_end` event, or when it was formed from `run_id` /
 * `job_id` / `step_id` (rule 2); a `"node"` when they include `node_entry`,
 * `node_exit` or `node_error` (`observable()`); else a `"span"`. So a flow
 * written with `observeRun()`, whose events all carry a `span_id`, keeps its
 * run → job → step → node tree.
 *
 * Status: its end event's `status`, `"error"` when any of its events is an
 * error, `"ok"` for a node that returned (`node_exit`), else `"unset"`. A
 * failed span without an error message of its own (a `run_end` / `job_end`
 * says only `status: "failed"`) gets the message of the child that failed
 * it: the job or step its end event names (`failed_job_id`,
 * `failed_step_id`), else its first failed child; else the name of its
 * first error event.
 *
 * ## Ids
 *
 * A `trace_id` field of 32 hex digits, or a `span_id` / `parent_id` of 16,
 * is used as is (lowercased). Otherwise the id is derived from the event's
 * correlation fields by a fixed 128-bit hash, so the same events always get
 * the same ids, in any batch, on any machine:
 *
 * | id                | derived from                                                |
 * | ----------------- | ----------------------------------------------------------- |
 * | trace id          | `flow_id`, else `run_id`, else the constant `"flightlog"`   |
 * | run span id       | `flow_id`, `run_id`                                         |
 * | job span id       | `flow_id`, `run_id`, `job_id`                               |
 * | step span id      | `flow_id`, `run_id`, `job_id`, `step_id`                    |
 * | other `span_id`   | `flow_id`, `span_id` (and `parent_id` likewise)             |
 *
 * A span's parent is its `parent_id` when it has one; otherwise a step's
 * parent is its job (or its run when it has no `job_id`), a job's its run, a
 * `span_id` span's the innermost step/job/run its first event names, except
 * that a `span_id` span naming only a run and carrying a valid `trace_id` is
 * a root (the run `observeRun()` started without a parent: its ids are given,
 * so no run span id is derived for it to hang under). Parents come from the
 * event's own fields only, never from which other events are in the batch,
 * so spans exported in different batches still link up.
 *
 * @module
 */
import { CORRELATION_FIELDS, type LogEvent } from "../event.ts";
import { compareEvents } from "../query/flow_log.ts";
import { SEVERITY } from "../level.ts";
import { type SpanKind, spanKindOfEvent } from "../span_kind.ts";

/**
 * How a span ended: from its end event's `status`, `"error"` when any event
 * of it is an error, `"ok"` for an `observable()` node that returned.
 */
export type SpanStatus = "ok" | "error" | "skipped" | "cancelled" | "unset";

/** One span, with its events. */
export interface TraceSpan {
  /** 32 lowercase hex digits. */
  trace_id: string;
  /** 16 lowercase hex digits. */
  span_id: string;
  /** 16 lowercase hex digits, or null for a root. */
  parent_span_id: string | null;
  /** What it stands for. */
  kind: SpanKind;
  /** `node`, else the `run_id` / `job_id` / `step_id` of a run / job / step, else the recorded `span_id`. */
  name: string;
  /** Start, epoch ms: its start event, else its end event minus `duration_ms`, else its first event. */
  start_ms: number;
  /** End, epoch ms: its end event, else its last event. */
  end_ms: number;
  /** Outcome. */
  status: SpanStatus;
  /**
   * When `status` is `"error"`: its error's message, else the message of the
   * child that failed it (see the module doc), else the name of its first
   * error event; null otherwise.
   */
  status_message: string | null;
  /** True when the span has a start event but no end event (still running, or cut short). */
  incomplete: boolean;
  /**
   * True for a run or job that no event of the batch belongs to, made up to
   * hold the steps (or jobs) that name it: it spans its children, has no
   * events, and is an error when one of them is.
   */
  synthetic: boolean;
  /** Correlation fields of its first event that are strings: flow_id, run_id, job_id, step_id, step_type, node, span_id, parent_id. */
  correlation: Record<string, string>;
  /** Its start event, if any. */
  start_event: LogEvent | null;
  /** Its end event, if any. */
  end_event: LogEvent | null;
  /** Every event of the span (start and end included), in timestamp order. */
  events: LogEvent[];
}

// The span carries its trace id in a field of its own.
const SPAN_CORRELATION = CORRELATION_FIELDS.filter((name) => name !== "trace_id");

// Null prototypes: an event named "toString" is no start or end event.
const START_EVENTS: Readonly<Record<string, SpanKind>> = Object.assign(Object.create(null), {
  run_start: "run",
  job_start: "job",
  step_start: "step",
});
const END_EVENTS: Readonly<Record<string, SpanKind>> = Object.assign(Object.create(null), {
  run_end: "run",
  job_end: "job",
  step_end: "step",
});

const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;
const ZERO32 = "0".repeat(32);
const ZERO16 = "0".repeat(16);

/**
 * A fixed 128-bit hash of `text` as 32 hex digits (four murmur3-style 32-bit
 * lanes with distinct seeds). Not cryptographic: it only has to spread ids.
 */
function hash128(text: string): string {
  let out = "";
  for (let lane = 0; lane < 4; lane++) {
    let h = Math.imul(0x9e3779b9, lane + 1) ^ text.length;
    for (let i = 0; i < text.length; i++) {
      let k = Math.imul(text.charCodeAt(i), 0xcc9e2d51);
      k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
      h ^= k;
      h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    out += (h >>> 0).toString(16).padStart(8, "0");
  }
  return out;
}

/**
 * A trace id (32 hex digits) for `text`: `text` itself when it already is
 * one, else its hash.
 *
 * @example Derive and keep ids
 * ```ts
 * import { deriveTraceId } from "./spans.ts";
 * import assert from "node:assert/strict";
 * assert.equal(deriveTraceId("0123456789ABCDEF0123456789abcdef"), "0123456789abcdef0123456789abcdef");
 * assert.match(deriveTraceId("flow-42"), /^[0-9a-f]{32}$/);
 * assert.equal(deriveTraceId("flow-42"), deriveTraceId("flow-42"));
 * ```
 */
export function deriveTraceId(text: string): string {
  if (HEX32.test(text)) {
    const id = text.toLowerCase();
    if (id !== ZERO32) return id;
  }
  const id = hash128("t\0" + text);
  return id === ZERO32 ? "1".padStart(32, "0") : id;
}

/**
 * A span id (16 hex digits) for `text`: `text` itself when it already is
 * one, else a hash of `scope` and `text`.
 *
 * @example Derive and keep ids
 * ```ts
 * import { deriveSpanId } from "./spans.ts";
 * import assert from "node:assert/strict";
 * assert.equal(deriveSpanId("f", "00f067aa0ba902b7"), "00f067aa0ba902b7");
 * assert.notEqual(deriveSpanId("f1", "fetch"), deriveSpanId("f2", "fetch"));
 * ```
 */
export function deriveSpanId(scope: string, text: string): string {
  if (HEX16.test(text)) {
    const id = text.toLowerCase();
    if (id !== ZERO16) return id;
  }
  const id = hash128("s\0" + scope + "\0" + text).slice(0, 16);
  return id === ZERO16 ? "1".padStart(16, "0") : id;
}

function isGivenTraceId(value: unknown): value is string {
  return typeof value === "string" && HEX32.test(value) && value !== ZERO32;
}

function idField(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name];
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Where an event belongs: its span's key, kind, ids and parent. */
interface Owner {
  key: string;
  kind: SpanKind;
  spanId: string;
  parentSpanId: string | null;
}

function lifecycleOwner(
  kind: "run" | "job" | "step",
  flow: string,
  runId: string | undefined,
  job: string | undefined,
  step: string,
): Owner {
  const run = runId ?? "";
  // A job or a step without a run_id has no run to hang under.
  const runParent = runId === undefined ? null : runSpanId(flow, run);
  if (kind === "run") {
    return { key: `run\0${flow}\0${run}`, kind, spanId: runSpanId(flow, run), parentSpanId: null };
  }
  if (kind === "job") {
    const key = `job\0${flow}\0${run}\0${job}`;
    return { key, kind, spanId: deriveSpanId(flow, key), parentSpanId: runParent };
  }
  const key = `step\0${flow}\0${run}\0${job ?? ""}\0${step}`;
  const parentSpanId = job === undefined
    ? runParent
    : deriveSpanId(flow, `job\0${flow}\0${run}\0${job}`);
  return { key, kind, spanId: deriveSpanId(flow, key), parentSpanId };
}

function runSpanId(flow: string, run: string): string {
  return deriveSpanId(flow, `run\0${flow}\0${run}`);
}

/** The span an event belongs to, or null (see the module doc). */
function ownerOf(fields: Record<string, unknown>): Owner | null {
  const flow = idField(fields, "flow_id") ?? "";
  const run = idField(fields, "run_id");
  const job = idField(fields, "job_id");
  const step = idField(fields, "step_id");
  const spanField = fields.span_id;
  if (typeof spanField === "string") {
    const parentField = fields.parent_id;
    let parentSpanId: string | null = null;
    if (typeof parentField === "string" && parentField !== spanField) {
      parentSpanId = deriveSpanId(flow, parentField);
    } else if (step !== undefined) {
      parentSpanId = lifecycleOwner("step", flow, run, job, step).spanId;
    } else if (job !== undefined) {
      parentSpanId = lifecycleOwner("job", flow, run, job, "").spanId;
    } else if (run !== undefined && !isGivenTraceId(fields.trace_id)) {
      parentSpanId = runSpanId(flow, run);
    }
    return {
      key: `span\0${flow}\0${spanField}`,
      kind: "span",
      spanId: deriveSpanId(flow, spanField),
      parentSpanId,
    };
  }
  if (step !== undefined) return lifecycleOwner("step", flow, run, job, step);
  if (job !== undefined) return lifecycleOwner("job", flow, run, job, "");
  if (run !== undefined) return lifecycleOwner("run", flow, run, job, "");
  return null;
}

/** Where an event belongs and its trace id, as {@linkcode cachedContext} caches them. */
interface Context {
  readonly owner: Owner | null;
  readonly trace_id: string;
  /** `{ trace_id, span_id }` of the owner, or null; shared, never modified. */
  readonly span: Readonly<{ trace_id: string; span_id: string }> | null;
}

/**
 * Contexts by their correlation tuple. A flow's events share their ids, and
 * deriving them hashes each id text four times over (~6 µs an event, 90% of
 * `toOtlpLogs`); a lookup is a tenth of that. Bounded: cleared when full.
 */
const contextCache = new Map<string, Context>();
const CONTEXT_CACHE_MAX = 4096;

/** A self-delimiting key part: `-` for none, else `<length>:<text>` (no two tuples share a key). */
function keyPart(value: string | undefined): string {
  return value === undefined ? "-" : value.length + ":" + value;
}

function stringField(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * The owner and trace id of an event, cached by exactly the values that
 * {@linkcode ownerOf} and {@linkcode traceIdOf} read, so a hit returns what
 * they would compute.
 */
function cachedContext(fields: Record<string, unknown>): Context {
  const trace = fields.trace_id, flow = fields.flow_id, run = fields.run_id;
  const job = fields.job_id, step = fields.step_id, span = fields.span_id;
  const parent = fields.parent_id;
  // The last tuple first: consecutive events of a flow share it, and seven
  // comparisons cost a tenth of building the key. Equal values (=== : 0 and
  // -0 give the same id text) give the same context.
  const last = lastTuple;
  if (
    lastContext !== null && trace === last[0] && flow === last[1] && run === last[2] &&
    job === last[3] && step === last[4] && span === last[5] && parent === last[6]
  ) {
    return lastContext;
  }
  const context = lookupContext(fields);
  last[0] = trace;
  last[1] = flow;
  last[2] = run;
  last[3] = job;
  last[4] = step;
  last[5] = span;
  last[6] = parent;
  lastContext = context;
  return context;
}

/** The correlation values of the last context returned, and that context. */
const lastTuple: unknown[] = new Array(7);
let lastContext: Context | null = null;

function lookupContext(fields: Record<string, unknown>): Context {
  const key = keyPart(stringField(fields, "trace_id")) +
    keyPart(idField(fields, "flow_id")) +
    keyPart(idField(fields, "run_id")) +
    keyPart(idField(fields, "job_id")) +
    keyPart(idField(fields, "step_id")) +
    keyPart(stringField(fields, "span_id")) +
    keyPart(stringField(fields, "parent_id"));
  let context = contextCache.get(key);
  if (context === undefined) {
    const owner = ownerOf(fields);
    const trace_id = traceIdOf(fields);
    context = {
      owner,
      trace_id,
      span: owner === null ? null : Object.freeze({ trace_id, span_id: owner.spanId }),
    };
    if (contextCache.size >= CONTEXT_CACHE_MAX) contextCache.clear();
    contextCache.set(key, context);
  }
  return context;
}

/**
 * The span context of an event like {@linkcode spanContextOf}, from the
 * cache: a shared frozen object (do not keep or modify it). For the encoders.
 */
export function cachedSpanContext(
  fields: Record<string, unknown>,
): Readonly<{ trace_id: string; span_id: string }> | null {
  return cachedContext(fields).span;
}

/** Empties the id cache (tests compare cached and freshly derived ids). */
export function clearSpanContextCache(): void {
  contextCache.clear();
  lastContext = null;
}

/**
 * The trace id of an event: its `trace_id` when that is 32 hex digits, else
 * derived from `flow_id`, else `run_id`, else the constant `"flightlog"`.
 *
 * @example Trace id of a flow
 * ```ts
 * import { traceIdOf } from "./spans.ts";
 * import assert from "node:assert/strict";
 * assert.equal(traceIdOf({ flow_id: "f" }), traceIdOf({ flow_id: "f", run_id: "r" }));
 * ```
 */
export function traceIdOf(fields: Record<string, unknown>): string {
  const given = fields.trace_id;
  if (isGivenTraceId(given)) return given.toLowerCase();
  const flow = idField(fields, "flow_id");
  if (flow !== undefined) return deriveTraceId("flow\0" + flow);
  const run = idField(fields, "run_id");
  if (run !== undefined) return deriveTraceId("run\0" + run);
  return deriveTraceId("flightlog");
}

/**
 * The OpenTelemetry context of an event: its trace id and the id of the span
 * it belongs to, or null when it belongs to no span (see the module doc).
 *
 * @example A step event and an event outside any span
 * ```ts
 * import { spanContextOf } from "./spans.ts";
 * import assert from "node:assert/strict";
 * const ctx = spanContextOf({ flow_id: "f", run_id: "r", step_id: "fetch" });
 * assert.match(ctx?.span_id ?? "", /^[0-9a-f]{16}$/);
 * assert.equal(spanContextOf({ detail: 1 }), null);
 * ```
 */
export function spanContextOf(
  fields: Record<string, unknown>,
): { trace_id: string; span_id: string } | null {
  const span = cachedContext(fields).span;
  return span === null ? null : { trace_id: span.trace_id, span_id: span.span_id };
}

// `err` is where `log.error(err)` and pino's `{ err }` put an error.
function errorMessage(fields: Record<string, unknown>): string | null {
  const error = fields.error ?? fields.err;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null) {
    const message = (error as Record<string, unknown>).message;
    if (typeof message === "string") return message;
  }
  return null;
}

const STATUSES: Readonly<Record<string, SpanStatus>> = {
  ok: "ok",
  failed: "error",
  error: "error",
  skipped: "skipped",
  cancelled: "cancelled",
};

interface Draft {
  span: TraceSpan;
  errorEvent: LogEvent | null;
}

/**
 * The spans of `events` (in any order), ordered by start time. Each span
 * holds its events in {@linkcode compareEvents} order; `events` is not
 * modified. Runs, jobs and steps are built from their `*_start` / `*_end`
 * lifecycle events (or from any event that names them); other spans from the
 * events sharing a `span_id`.
 *
 * @example A run with one failed step
 * ```ts
 * import { collectSpans } from "./spans.ts";
 * import assert from "node:assert/strict";
 * const event = (ts_ms: number, event: string, fields: Record<string, unknown>) => ({
 *   ts_ms, level: "info" as const, severity: 9, event, producer: "p.1", seq: ts_ms,
 *   fields: { flow_id: "f", run_id: "r", ...fields },
 * });
 * const spans = collectSpans([
 *   event(1, "run_start", {}),
 *   event(2, "step_start", { step_id: "fetch" }),
 *   event(5, "step_end", { step_id: "fetch", status: "failed", error: "timeout" }),
 *   event(6, "run_end", { status: "failed" }),
 * ]);
 * assert.deepEqual(spans.map((s) => [s.kind, s.name, s.start_ms, s.end_ms, s.status]), [
 *   ["run", "r", 1, 6, "error"],
 *   ["step", "fetch", 2, 5, "error"],
 * ]);
 * assert.equal(spans[1]?.parent_span_id, spans[0]?.span_id);
 * assert.equal(spans[1]?.status_message, "timeout");
 * ```
 */
export function collectSpans(events: readonly LogEvent[]): TraceSpan[] {
  const sorted = isSorted(events) ? events : [...events].sort(compareEvents);
  const drafts = new Map<string, Draft>();
  for (const event of sorted) {
    const fields = event.fields;
    const context = cachedContext(fields);
    const owner = context.owner;
    if (owner === null) continue;
    let draft = drafts.get(owner.key);
    if (draft === undefined) {
      const correlation: Record<string, string> = {};
      for (const name of SPAN_CORRELATION) {
        const value = fields[name];
        if (typeof value === "string") correlation[name] = value;
      }
      draft = {
        span: {
          trace_id: context.trace_id,
          span_id: owner.spanId,
          parent_span_id: owner.parentSpanId,
          kind: owner.kind,
          name: event.event,
          start_ms: event.ts_ms,
          end_ms: event.ts_ms,
          status: "unset",
          status_message: null,
          incomplete: false,
          synthetic: false,
          correlation,
          start_event: null,
          end_event: null,
          events: [],
        },
        errorEvent: null,
      };
      drafts.set(owner.key, draft);
    }
    const span = draft.span;
    span.events.push(event);
    if (span.parent_span_id === null && owner.parentSpanId !== null) {
      span.parent_span_id = owner.parentSpanId;
    }
    const startKind = START_EVENTS[event.event];
    const endKind = END_EVENTS[event.event];
    if (startKind !== undefined && span.start_event === null) {
      if (startKind === owner.kind || owner.kind === "span") span.start_event = event;
    }
    if (endKind !== undefined && (endKind === owner.kind || owner.kind === "span")) {
      span.end_event = event;
    }
    if (
      draft.errorEvent === null &&
      (event.severity >= SEVERITY.error || fields.status === "failed")
    ) {
      draft.errorEvent = event;
    }
  }

  const spans: TraceSpan[] = [];
  // Failed spans with no message of their own, and the name of their first error event.
  const unexplained = new Map<TraceSpan, string>();
  for (const { span, errorEvent } of drafts.values()) {
    const first = span.events[0]!.ts_ms;
    const last = span.events[span.events.length - 1]!.ts_ms;
    const end = span.end_event;
    const duration = end?.fields.duration_ms;
    let start = span.start_event?.ts_ms ?? first;
    if (
      span.start_event === null && end !== null && typeof duration === "number" && duration >= 0
    ) {
      start = Math.min(end.ts_ms - duration, first);
    }
    span.start_ms = start;
    span.end_ms = Math.max(end?.ts_ms ?? last, start);
    span.incomplete = span.start_event !== null && end === null;
    span.name = spanName(span);
    const recorded = end?.fields.status;
    span.status = typeof recorded === "string" ? STATUSES[recorded] ?? "unset" : "unset";
    if (errorEvent !== null) {
      span.status = "error";
      span.status_message = errorMessage(errorEvent.fields);
      if (span.status_message === null) unexplained.set(span, errorEvent.event);
    } else if (span.status === "error") {
      span.status_message = end === null ? null : errorMessage(end.fields);
    }
    spans.push(span);
  }
  addMissingParents(spans);
  // After addMissingParents, which makes up parents for the spans formed from
  // run/job/step ids only: a span_id span's parent is a recorded id.
  for (const span of spans) {
    if (span.kind !== "span") continue;
    for (const event of span.events) {
      const kind = spanKindOfEvent(event.event);
      if (kind === undefined) continue;
      span.kind = kind;
      break;
    }
    if (
      span.kind === "node" && span.status === "unset" &&
      span.events.some((e) => e.event === "node_exit")
    ) {
      span.status = "ok";
    }
  }
  spans.sort((a, b) => a.start_ms - b.start_ms || kindRank(a) - kindRank(b));
  explainFailures(spans, unexplained);
  return spans;
}

/**
 * Gives each failed span without a message the message of the child that
 * failed it (see the module doc), children before parents, so a run gets its
 * job's, which got its step's. `spans` are in start order.
 */
function explainFailures(spans: TraceSpan[], unexplained: Map<TraceSpan, string>): void {
  const byId = new Map<string, TraceSpan>();
  for (const span of spans) if (!byId.has(span.span_id)) byId.set(span.span_id, span);
  const children = new Map<TraceSpan, TraceSpan[]>();
  const order: TraceSpan[] = [];
  for (const span of spans) {
    const parent = span.parent_span_id === null ? undefined : byId.get(span.parent_span_id);
    if (parent === undefined || parent === span) order.push(span);
    else {
      const list = children.get(parent);
      if (list === undefined) children.set(parent, [span]);
      else list.push(span);
    }
  }
  // Breadth first from the roots (iterative: a chain of nodes may be deep);
  // spans in a parent loop are unreachable and keep their own fallback.
  const seen = new Set(order);
  for (let i = 0; i < order.length; i++) {
    for (const child of children.get(order[i]!) ?? []) {
      if (!seen.has(child)) {
        seen.add(child);
        order.push(child);
      }
    }
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const span = order[i]!;
    if (span.status !== "error" || span.status_message !== null) continue;
    const failed = (children.get(span) ?? []).filter((c) =>
      c.status === "error" && c.status_message !== null
    );
    const jobId = span.end_event?.fields.failed_job_id;
    const stepId = span.end_event?.fields.failed_step_id;
    const named = failed.find((c) =>
      (c.kind === "job" && typeof jobId === "string" && c.correlation.job_id === jobId) ||
      (c.kind === "step" && typeof stepId === "string" && c.correlation.step_id === stepId)
    );
    span.status_message = (named ?? failed[0])?.status_message ?? null;
  }
  for (const span of spans) {
    if (span.status === "error" && span.status_message === null) {
      span.status_message = unexplained.get(span) ?? null;
    }
  }
}

const KIND_RANK: Readonly<Record<SpanKind, number>> = {
  run: 0,
  job: 1,
  step: 2,
  node: 3,
  span: 4,
};

function kindRank(span: TraceSpan): number {
  return KIND_RANK[span.kind];
}

/**
 * Adds the job and run spans that steps and jobs name as parents but that
 * no event of the batch belongs to (a flow that logs `step_*` events only),
 * so the tree has no holes. Their ids are the ones the children point to.
 */
function addMissingParents(spans: TraceSpan[]): void {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  // Steps first, so a made-up job can itself get a made-up run.
  const pending = spans.filter((s) => s.kind === "step").concat(
    spans.filter((s) => s.kind === "job"),
  );
  for (let i = 0; i < pending.length; i++) {
    const child = pending[i]!;
    const parentId = child.parent_span_id;
    if (parentId === null) continue;
    const c = child.correlation;
    const kind: SpanKind = child.kind === "step" && c.job_id !== undefined ? "job" : "run";
    let parent = byId.get(parentId);
    if (parent === undefined) {
      if (kind === "run" && c.run_id === undefined) continue;
      const correlation: Record<string, string> = {};
      for (const name of ["flow_id", "run_id", "job_id"] as const) {
        if (c[name] !== undefined && (name !== "job_id" || kind === "job")) {
          correlation[name] = c[name];
        }
      }
      const flow = c.flow_id ?? "";
      const run = c.run_id ?? "";
      parent = {
        trace_id: child.trace_id,
        span_id: parentId,
        parent_span_id: kind === "job" && c.run_id !== undefined
          ? lifecycleOwner("run", flow, run, undefined, "").spanId
          : null,
        kind,
        name: (kind === "job" ? c.job_id : c.run_id) ?? parentId,
        start_ms: child.start_ms,
        end_ms: child.end_ms,
        status: "unset",
        status_message: null,
        incomplete: false,
        synthetic: true,
        correlation,
        start_event: null,
        end_event: null,
        events: [],
      };
      byId.set(parentId, parent);
      spans.push(parent);
      if (kind === "job") pending.push(parent);
    } else if (!parent.synthetic) continue;
    if (child.start_ms < parent.start_ms) parent.start_ms = child.start_ms;
    if (child.end_ms > parent.end_ms) parent.end_ms = child.end_ms;
    if (child.status === "error") parent.status = "error";
  }
}

/**
 * `node`; else the id its kind is named by (a `span_id` span with a run, job
 * or step start/end event counts as that kind); else the recorded `span_id`
 * (never the event name while an id is at hand: a `span_id` span whose
 * `step_end` carries no `step_id` is named by its `span_id`).
 */
function spanName(span: TraceSpan): string {
  const c = span.correlation;
  if (c.node !== undefined) return c.node;
  const lifecycle = span.start_event ?? span.end_event;
  const kind = span.kind !== "span" || lifecycle === null
    ? span.kind
    : START_EVENTS[lifecycle.event] ?? END_EVENTS[lifecycle.event] ?? "span";
  const id = kind === "run"
    ? c.run_id
    : kind === "job"
    ? c.job_id
    : kind === "step"
    ? c.step_id
    : c.span_id;
  if (id !== undefined) return id;
  if (c.span_id !== undefined) return c.span_id;
  // A run, job or step named by a number: the correlation holds strings only.
  const first = span.events[0]!;
  return idField(first.fields, `${span.kind}_id`) ?? c.step_id ?? c.job_id ?? c.run_id ??
    first.event;
}

function isSorted(events: readonly LogEvent[]): boolean {
  for (let i = 1; i < events.length; i++) {
    if (compareEvents(events[i - 1]!, events[i]!) > 0) return false;
  }
  return true;
}

/**
 * The stack of the first error recorded in the span's events (an `error`
 * field with a string `stack`, as `summarizeError()` writes), or null.
 *
 * @example The stack of a failed step
 * ```ts
 * import { collectSpans, errorStackOf } from "./spans.ts";
 * import assert from "node:assert/strict";
 * const [step] = collectSpans([{
 *   ts_ms: 1, level: "error", severity: 17, event: "step_end", producer: "p.1", seq: 1,
 *   fields: { flow_id: "f", step_id: "s", status: "failed", error: { message: "m", stack: "Error: m\n    at f" } },
 * }]).filter((s) => s.kind === "step");
 * assert.equal(errorStackOf(step!), "Error: m\n    at f");
 * ```
 */
export function errorStackOf(span: TraceSpan): string | null {
  for (const event of span.events) {
    const error = event.fields.error ?? event.fields.err;
    if (typeof error !== "object" || error === null) continue;
    const stack = (error as Record<string, unknown>).stack;
    if (typeof stack === "string" && stack !== "") return stack;
  }
  return null;
}
