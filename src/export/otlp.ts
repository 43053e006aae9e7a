/**
 * OpenTelemetry export: events as an OTLP/HTTP JSON `ExportLogsServiceRequest`
 * and their spans as an `ExportTraceServiceRequest`, in the protobuf JSON
 * mapping that OTLP/HTTP receivers accept (`Content-Type: application/json`):
 * lowerCamelCase field names, trace and span ids as hex strings, 64-bit
 * integers (timestamps, `intValue`) as decimal strings, enums as numbers.
 *
 * Mapping of one event to a `LogRecord`:
 *
 * | LogRecord field          | from                                                        |
 * | ------------------------ | ----------------------------------------------------------- |
 * | `timeUnixNano`           | `ts_ms`, to the microsecond (a double holds no more)        |
 * | `observedTimeUnixNano`   | the same (the logger observed the event when it was logged) |
 * | `severityNumber`         | `severity` (trace 1, debug 5, info 9, warn 13, error 17, fatal 21) |
 * | `severityText`           | the level name in upper case (`"INFO"`)                     |
 * | `body`, `eventName`      | the event name                                              |
 * | `attributes`             | every field, typed, plus `log.record.uid` = `"<producer>:<seq>"` |
 * | `traceId`, `spanId`      | the span the event belongs to (`spans.ts`), else the caller's span that its context continues (`trace_id` and `parent_id`, no `span_id`: a context from `contextFromHeaders()`), omitted if none |
 * | `flags`                  | the W3C trace flags when there is a trace id: 1 (sampled), 0 when the incoming `traceparent` was not sampled |
 *
 * A span's `flags` hold its trace flags (as a log record's) and, as the
 * OpenTelemetry SDK sets them, `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK`
 * (0x100), plus `SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK` (0x200) when its parent is
 * the caller's span named by the incoming `traceparent` field. Its
 * `traceState` is its events' `tracestate` field. Its status: error for
 * `failed` (or any error event), ok for `ok` and for `skipped` (a deliberate
 * outcome, not a failure; `flightlog.status` says which), unset for
 * `cancelled`, for a span with no recorded outcome, and for an `observable()`
 * node that returned (instrumentation leaves OK to the application, as the
 * SDK does; `show` and the viewer still say ok).
 *
 * `log.record.uid` is unique per event across restarts (a producer id is
 * unique per producing thread, a seq per producer), so a receiver can drop
 * the duplicates that an at-least-once uplink sends.
 *
 * Field values become `AnyValue`s: strings `stringValue`; booleans
 * `boolValue`; safe integers and 64-bit bigints `intValue` (as strings); other
 * numbers `doubleValue` (`"NaN"`, `"Infinity"`, `"-Infinity"` as the JSON
 * mapping spells them); Dates `stringValue` (ISO 8601); arrays `arrayValue`;
 * objects `kvlistValue`; `null` and `undefined` an empty `AnyValue`; larger
 * bigints `stringValue`.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { cachedSpanContext, collectSpans, type TraceSpan } from "./spans.ts";
import { remoteParentOf, traceFlagsOf } from "../trace_context.ts";

/** flightlog's version, the default scope version. */
export const FLIGHTLOG_VERSION = "0.1.0";

/** Options of {@linkcode toOtlpLogs} and {@linkcode toOtlpTraces}. */
export interface OtlpOptions {
  /**
   * Resource attributes (`service.name` and the like). `service.name` is
   * `"flightlog"` unless given here.
   * @default {{ "service.name": "flightlog" }}
   */
  resource?: Record<string, unknown>;
  /**
   * Instrumentation scope name.
   * @default {"flightlog"}
   */
  scopeName?: string;
  /**
   * Instrumentation scope version.
   * @default {FLIGHTLOG_VERSION}
   */
  scopeVersion?: string;
}

/** An OTLP `AnyValue` in the JSON mapping: exactly one member, or none for an empty value. */
export interface OtlpAnyValue {
  /** A string. */
  stringValue?: string;
  /** A boolean. */
  boolValue?: boolean;
  /** A signed 64-bit integer, as a decimal string. */
  intValue?: string;
  /** A double; `"NaN"`, `"Infinity"`, `"-Infinity"` for those values. */
  doubleValue?: number | string;
  /** An array. */
  arrayValue?: { values: OtlpAnyValue[] };
  /** A map. */
  kvlistValue?: { values: OtlpKeyValue[] };
  /** Bytes, base64. */
  bytesValue?: string;
}

/** An OTLP `KeyValue`. */
export interface OtlpKeyValue {
  /** Attribute name. */
  key: string;
  /** Attribute value. */
  value: OtlpAnyValue;
}

/** An OTLP `Resource`. */
export interface OtlpResource {
  /** Resource attributes. */
  attributes: OtlpKeyValue[];
  /** Always 0. */
  droppedAttributesCount: number;
}

/** An OTLP `InstrumentationScope`. */
export interface OtlpScope {
  /** Scope name. */
  name: string;
  /** Scope version. */
  version: string;
}

/** An OTLP `LogRecord` in the JSON mapping. */
export interface OtlpLogRecord {
  /** Event time, nanoseconds since the epoch, decimal string. */
  timeUnixNano: string;
  /** Observation time (the same), decimal string. */
  observedTimeUnixNano: string;
  /** OpenTelemetry severity number. */
  severityNumber: number;
  /** Level name in upper case. */
  severityText: string;
  /** The event name. */
  body: OtlpAnyValue;
  /** The event name. */
  eventName: string;
  /** Fields and `log.record.uid`. */
  attributes: OtlpKeyValue[];
  /** Always 0. */
  droppedAttributesCount: number;
  /** W3C trace flags, with a trace id: 1 sampled, 0 not. */
  flags?: number;
  /** 32 hex digits. */
  traceId?: string;
  /** 16 hex digits. */
  spanId?: string;
}

/** An OTLP/HTTP JSON `ExportLogsServiceRequest`. */
export interface OtlpLogsRequest {
  /** One resource with one scope. */
  resourceLogs: {
    resource: OtlpResource;
    scopeLogs: { scope: OtlpScope; logRecords: OtlpLogRecord[] }[];
  }[];
}

/** An OTLP `Span.Event`. */
export interface OtlpSpanEvent {
  /** Event time, nanoseconds, decimal string. */
  timeUnixNano: string;
  /** The event name. */
  name: string;
  /** Fields, `log.record.uid` and `log.severity_text`. */
  attributes: OtlpKeyValue[];
  /** Always 0. */
  droppedAttributesCount: number;
}

/** An OTLP `Span` in the JSON mapping. */
export interface OtlpSpan {
  /** 32 hex digits. */
  traceId: string;
  /** 16 hex digits. */
  spanId: string;
  /** W3C `tracestate` of the trace the span continues; absent when there is none. */
  traceState?: string;
  /** 16 hex digits; absent for a root span. */
  parentSpanId?: string;
  /** The span's name (`spans.ts`). */
  name: string;
  /** Always 1, `SPAN_KIND_INTERNAL`. */
  kind: number;
  /** Nanoseconds, decimal string. */
  startTimeUnixNano: string;
  /** Nanoseconds, decimal string. */
  endTimeUnixNano: string;
  /** Correlation fields and `flightlog.*` attributes. */
  attributes: OtlpKeyValue[];
  /** Always 0. */
  droppedAttributesCount: number;
  /** The span's events other than its start and end events. */
  events: OtlpSpanEvent[];
  /** Always 0. */
  droppedEventsCount: number;
  /**
   * 0 unset (cancelled, or no recorded outcome), 1 ok (ok or skipped), 2 error
   * (with the error message when one was recorded).
   */
  status: { code: number; message?: string };
  /** Always empty. */
  links: never[];
  /** Always 0. */
  droppedLinksCount: number;
  /** Trace flags (0x01 sampled) | 0x100 (remoteness known) | 0x200 when the parent is remote. */
  flags: number;
}

/** An OTLP/HTTP JSON `ExportTraceServiceRequest`. */
export interface OtlpTracesRequest {
  /** One resource with one scope. */
  resourceSpans: {
    resource: OtlpResource;
    scopeSpans: { scope: OtlpScope; spans: OtlpSpan[] }[];
  }[];
}

/** Level names as `severityText`. */
export const SEVERITY_TEXT: Readonly<Record<string, string>> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARN",
  error: "ERROR",
  fatal: "FATAL",
};

/** OTLP `Status.code`. */
const STATUS_UNSET = 0;
const STATUS_OK = 1;
const STATUS_ERROR = 2;
/** `SPAN_KIND_INTERNAL`: every span is inside the recorded program. */
const SPAN_KIND_INTERNAL = 1;
/** `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK`: whether the parent is remote is known. */
const SPAN_FLAGS_HAS_IS_REMOTE = 0x100;
/** `SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK`: the parent is the caller's span, in another process. */
const SPAN_FLAGS_IS_REMOTE = 0x200;
const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;
const ZERO32 = "0".repeat(32);
const ZERO16 = "0".repeat(16);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Epoch milliseconds (fractional) as OTLP nanoseconds, a decimal string,
 * rounded to the microsecond; `"0"` for a negative or non-finite time.
 *
 * @example Milliseconds to nanoseconds
 * ```ts
 * import { msToUnixNano } from "./otlp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(msToUnixNano(1_700_000_000_123.5), "1700000000123500000");
 * assert.equal(msToUnixNano(0.001), "1000");
 * ```
 */
export function msToUnixNano(ms: number): string {
  if (!(ms >= 0) || ms === Infinity) return "0";
  let whole = Math.floor(ms);
  let micros = Math.round((ms - whole) * 1000);
  if (micros >= 1000) {
    whole += 1;
    micros -= 1000;
  }
  // Digits are joined as text: ms × 1e6 exceeds 2^53, where a double would round.
  if (whole === 0) return micros === 0 ? "0" : `${micros}000`;
  return `${whole}${String(micros).padStart(3, "0")}000`;
}

/**
 * A field value as an OTLP `AnyValue` (see the module doc for the mapping).
 *
 * @example Typed values
 * ```ts
 * import { toAnyValue } from "./otlp.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(toAnyValue(42), { intValue: "42" });
 * assert.deepEqual(toAnyValue([1.5, "a"]), {
 *   arrayValue: { values: [{ doubleValue: 1.5 }, { stringValue: "a" }] },
 * });
 * ```
 */
export function toAnyValue(value: unknown, depth = 0): OtlpAnyValue {
  switch (typeof value) {
    case "string":
      return { stringValue: value };
    case "boolean":
      return { boolValue: value };
    case "number":
      if (Number.isSafeInteger(value)) return { intValue: String(value) };
      if (Number.isFinite(value)) return { doubleValue: value };
      return { doubleValue: Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity" };
    case "bigint":
      return value >= INT64_MIN && value <= INT64_MAX
        ? { intValue: value.toString() }
        : { stringValue: value.toString() };
    case "object": {
      if (value === null) return {};
      if (value instanceof Date) {
        return {
          stringValue: Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString(),
        };
      }
      // Stored values are bounded by the codec's maxDepth; this guards direct callers.
      if (depth >= 32) return { stringValue: Array.isArray(value) ? "[Array]" : "[Object]" };
      if (Array.isArray(value)) {
        const values: OtlpAnyValue[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) values[i] = toAnyValue(value[i], depth + 1);
        return { arrayValue: { values } };
      }
      return { kvlistValue: { values: toKeyValues(value as Record<string, unknown>, depth + 1) } };
    }
    default:
      return {};
  }
}

function toKeyValues(object: Record<string, unknown>, depth = 0): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  for (const key of Object.keys(object)) {
    out.push({ key, value: toAnyValue(object[key], depth) });
  }
  return out;
}

/** The `Resource` of `options`; a `TypeError` when invalid. */
export function resourceOf(options: OtlpOptions): OtlpResource {
  const given = options.resource ?? {};
  if (typeof given !== "object" || given === null) {
    throw new TypeError("Invalid OTLP option resource: pass an object of attributes");
  }
  const attributes = Object.hasOwn(given, "service.name")
    ? given
    : { "service.name": "flightlog", ...given };
  return { attributes: toKeyValues(attributes), droppedAttributesCount: 0 };
}

/** The `InstrumentationScope` of `options`; a `TypeError` when invalid. */
export function scopeOf(options: OtlpOptions): OtlpScope {
  const name = options.scopeName ?? "flightlog";
  const version = options.scopeVersion ?? FLIGHTLOG_VERSION;
  if (typeof name !== "string" || typeof version !== "string") {
    throw new TypeError("Invalid OTLP option scopeName or scopeVersion: pass strings");
  }
  return { name, version };
}

function eventAttributes(event: LogEvent): OtlpKeyValue[] {
  const attributes = toKeyValues(event.fields);
  attributes.push({
    key: "log.record.uid",
    value: { stringValue: `${event.producer}:${event.seq}` },
  });
  return attributes;
}

/**
 * Encodes events as an OTLP/HTTP JSON `ExportLogsServiceRequest` (one
 * resource, one scope, one `LogRecord` per event, in the given order). Send
 * it with `JSON.stringify` to `<collector>/v1/logs`. Throws a `TypeError` for
 * invalid options.
 *
 * @example Encode one event
 * ```ts
 * import { toOtlpLogs } from "./otlp.ts";
 * import assert from "node:assert/strict";
 * const request = toOtlpLogs([{
 *   ts_ms: 1_700_000_000_000, level: "error", severity: 17, event: "step_end", producer: "a1.1",
 *   seq: 7, fields: { flow_id: "f", run_id: "r", step_id: "fetch", attempts: 2 },
 * }], { resource: { "service.name": "agent" } });
 * const record = request.resourceLogs[0]?.scopeLogs[0]?.logRecords[0];
 * assert.equal(record?.timeUnixNano, "1700000000000000000");
 * assert.equal(record?.severityNumber, 17);
 * assert.match(record?.traceId ?? "", /^[0-9a-f]{32}$/);
 * assert.deepEqual(record?.attributes.at(-1), { key: "log.record.uid", value: { stringValue: "a1.1:7" } });
 * ```
 */
export function toOtlpLogs(
  events: readonly LogEvent[],
  options: OtlpOptions = {},
): OtlpLogsRequest {
  const resource = resourceOf(options);
  const scope = scopeOf(options);
  const logRecords: OtlpLogRecord[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) logRecords[i] = logRecordOf(events[i]!);
  return { resourceLogs: [{ resource, scopeLogs: [{ scope, logRecords }] }] };
}

/** One event as a `LogRecord` (the mapping in the module doc). */
export function logRecordOf(event: LogEvent): OtlpLogRecord {
  const time = msToUnixNano(event.ts_ms);
  const record: OtlpLogRecord = {
    timeUnixNano: time,
    observedTimeUnixNano: time,
    severityNumber: event.severity,
    severityText: SEVERITY_TEXT[event.level] ?? String(event.level).toUpperCase(),
    body: { stringValue: event.event },
    eventName: event.event,
    attributes: eventAttributes(event),
    droppedAttributesCount: 0,
  };
  const context = logSpanContext(event.fields);
  if (context !== null) {
    record.flags = traceFlagsOf(event.fields, context.trace_id);
    record.traceId = context.trace_id;
    record.spanId = context.span_id;
  }
  return record;
}

let lastTrace: unknown;
let lastParent: unknown;
let lastRemote: Readonly<{ trace_id: string; span_id: string }> | null = null;

/**
 * The trace context of an event's log record: the span it belongs to
 * (`spans.ts`), else the span its context continues, `trace_id` and
 * `parent_id` without a `span_id` (a context from `contextFromHeaders()`: the
 * caller's span, as the OpenTelemetry SDK stamps a log record made in an
 * extracted context), else null. Shared and frozen: do not keep it.
 */
export function logSpanContext(
  fields: Record<string, unknown>,
): Readonly<{ trace_id: string; span_id: string }> | null {
  const context = cachedSpanContext(fields);
  if (context !== null) return context;
  const trace = fields.trace_id, parent = fields.parent_id;
  if (typeof trace !== "string" || typeof parent !== "string") return null;
  // A handler's events share the pair: validate it once.
  if (trace !== lastTrace || parent !== lastParent) {
    lastTrace = trace;
    lastParent = parent;
    lastRemote = HEX32.test(trace) && trace !== ZERO32 && HEX16.test(parent) && parent !== ZERO16
      ? Object.freeze({ trace_id: trace.toLowerCase(), span_id: parent.toLowerCase() })
      : null;
  }
  return lastRemote;
}

/**
 * Encodes the spans of `events` (see `spans.ts`: runs, jobs and steps from
 * their start/end events, other spans from `span_id`/`parent_id`) as an
 * OTLP/HTTP JSON `ExportTraceServiceRequest`; send it to
 * `<collector>/v1/traces`. A span is built from the events given, so pass
 * whole flows (or at least both ends of each span); a span with a start but
 * no end event ends at its last event and has `flightlog.incomplete: true`.
 * Throws a `TypeError` for invalid options.
 *
 * @example A run and its step
 * ```ts
 * import { toOtlpTraces } from "./otlp.ts";
 * import assert from "node:assert/strict";
 * const event = (ts_ms: number, event: string, fields: Record<string, unknown>) => ({
 *   ts_ms, level: "info" as const, severity: 9, event, producer: "p.1", seq: ts_ms,
 *   fields: { flow_id: "f", run_id: "r", ...fields },
 * });
 * const request = toOtlpTraces([
 *   event(1, "run_start", {}),
 *   event(2, "step_start", { step_id: "fetch" }),
 *   event(3, "step_end", { step_id: "fetch", status: "ok", duration_ms: 1 }),
 *   event(4, "run_end", { status: "ok" }),
 * ]);
 * const [run, step] = request.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
 * assert.equal(step?.parentSpanId, run?.spanId);
 * assert.equal(step?.startTimeUnixNano, "2000000");
 * assert.deepEqual(run?.status, { code: 1 });
 * ```
 */
export function toOtlpTraces(
  events: readonly LogEvent[],
  options: OtlpOptions = {},
): OtlpTracesRequest {
  const resource = resourceOf(options);
  const scope = scopeOf(options);
  const spans = collectSpans(events).map(toOtlpSpan);
  return { resourceSpans: [{ resource, scopeSpans: [{ scope, spans }] }] };
}

function toOtlpSpan(span: TraceSpan): OtlpSpan {
  const attributes: OtlpKeyValue[] = [];
  for (const [key, value] of Object.entries(span.correlation)) {
    attributes.push({ key, value: { stringValue: value } });
  }
  attributes.push({ key: "flightlog.span.kind", value: { stringValue: span.kind } });
  const recorded = span.end_event?.fields.status;
  if (typeof recorded === "string") {
    attributes.push({ key: "flightlog.status", value: { stringValue: recorded } });
  }
  const duration = span.end_event?.fields.duration_ms;
  if (typeof duration === "number") {
    attributes.push({ key: "flightlog.duration_ms", value: toAnyValue(duration) });
  }
  if (span.incomplete) attributes.push({ key: "flightlog.incomplete", value: { boolValue: true } });
  if (span.synthetic) attributes.push({ key: "flightlog.synthetic", value: { boolValue: true } });

  const events: OtlpSpanEvent[] = [];
  for (const event of span.events) {
    if (event === span.start_event || event === span.end_event) continue;
    const eventAttrs = eventAttributes(event);
    eventAttrs.push({
      key: "log.severity_text",
      value: { stringValue: SEVERITY_TEXT[event.level] ?? String(event.level) },
    });
    events.push({
      timeUnixNano: msToUnixNano(event.ts_ms),
      name: event.event,
      attributes: eventAttrs,
      droppedAttributesCount: 0,
    });
  }

  const status: OtlpSpan["status"] = span.status === "error"
    ? span.status_message === null
      ? { code: STATUS_ERROR }
      : { code: STATUS_ERROR, message: span.status_message }
    : {
      code: span.kind !== "node" && (span.status === "ok" || span.status === "skipped")
        ? STATUS_OK
        : STATUS_UNSET,
    };
  // Every event of a span carries the same trace context; a made-up span has none.
  const fields = span.events[0]?.fields;
  let flags = SPAN_FLAGS_HAS_IS_REMOTE |
    (fields === undefined ? 1 : traceFlagsOf(fields, span.trace_id));
  if (
    fields !== undefined && span.parent_span_id !== null &&
    span.parent_span_id === remoteParentOf(fields, span.trace_id)
  ) {
    flags |= SPAN_FLAGS_IS_REMOTE;
  }
  const out: OtlpSpan = {
    traceId: span.trace_id,
    spanId: span.span_id,
    name: span.name,
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: msToUnixNano(span.start_ms),
    endTimeUnixNano: msToUnixNano(span.end_ms),
    attributes,
    droppedAttributesCount: 0,
    events,
    droppedEventsCount: 0,
    status,
    links: [],
    droppedLinksCount: 0,
    flags,
  };
  const traceState = fields?.tracestate;
  if (typeof traceState === "string" && traceState !== "") out.traceState = traceState;
  if (span.parent_span_id !== null) out.parentSpanId = span.parent_span_id;
  return out;
}
