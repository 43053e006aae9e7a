/**
 * A stand-in for the OTLP/JSON encoder of `src/export/otlp.ts` (branch
 * `tools`, issue 5), with the same signatures, so the uplink and its tests run
 * before that branch is merged. Once it is, `src/uplink/encoders.ts` imports
 * the real one and this file goes.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";

type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValue[] } }
  | { kvlistValue: { values: KeyValue[] } };
interface KeyValue {
  key: string;
  value: AnyValue;
}

function anyValue(value: unknown): AnyValue {
  switch (typeof value) {
    case "string":
      return { stringValue: value };
    case "boolean":
      return { boolValue: value };
    case "bigint":
      return { intValue: value.toString() };
    case "number":
      return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value };
    default:
      if (Array.isArray(value)) return { arrayValue: { values: value.map(anyValue) } };
      if (value !== null && typeof value === "object") {
        return { kvlistValue: { values: attributes(value as Record<string, unknown>) } };
      }
      return { stringValue: String(value) };
  }
}

function attributes(fields: Record<string, unknown>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key of Object.keys(fields)) out.push({ key, value: anyValue(fields[key]) });
  return out;
}

function nanos(ms: number): string {
  return (BigInt(Math.round(ms * 1000)) * 1000n).toString();
}

const RESOURCE = { attributes: [{ key: "service.name", value: { stringValue: "flightlog" } }] };
const SCOPE = { name: "flightlog" };

/** OTLP/JSON `ExportLogsServiceRequest` of `events`; each record has `log.record.uid`. */
export function toOtlpLogs(events: readonly LogEvent[]): Record<string, unknown> {
  const logRecords = events.map((e) => ({
    timeUnixNano: nanos(e.ts_ms),
    observedTimeUnixNano: nanos(e.ts_ms),
    severityNumber: e.severity,
    severityText: e.level.toUpperCase(),
    body: { stringValue: e.event },
    attributes: [
      { key: "log.record.uid", value: { stringValue: `${e.producer}:${e.seq}` } },
      ...attributes(e.fields),
    ],
  }));
  return { resourceLogs: [{ resource: RESOURCE, scopeLogs: [{ scope: SCOPE, logRecords }] }] };
}

function hexId(text: string, bytes: number): string {
  // FNV-1a, widened: a stable id from the event's own string id.
  let out = "";
  let h = 0x811c9dc5;
  for (let round = 0; out.length < bytes * 2; round++) {
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ round, 0x01000193);
    out += (h >>> 0).toString(16).padStart(8, "0");
  }
  return out.slice(0, bytes * 2);
}

/**
 * OTLP/JSON `ExportTraceServiceRequest`: one span per event that carries a
 * string `span_id` and a numeric `duration_ms` (a span's end event).
 */
export function toOtlpTraces(events: readonly LogEvent[]): Record<string, unknown> {
  const spans = [];
  for (const e of events) {
    const { span_id, parent_id, duration_ms, flow_id } = e.fields;
    if (typeof span_id !== "string" || typeof duration_ms !== "number") continue;
    const trace = typeof flow_id === "string" ? flow_id : e.producer;
    spans.push({
      traceId: hexId(trace, 16),
      spanId: hexId(span_id, 8),
      ...(typeof parent_id === "string" ? { parentSpanId: hexId(parent_id, 8) } : {}),
      name: typeof e.fields.node === "string" ? e.fields.node : e.event,
      kind: 1,
      startTimeUnixNano: nanos(e.ts_ms - duration_ms),
      endTimeUnixNano: nanos(e.ts_ms),
      attributes: [
        { key: "log.record.uid", value: { stringValue: `${e.producer}:${e.seq}` } },
      ],
      status: { code: e.severity >= 17 ? 2 : 1 },
    });
  }
  return { resourceSpans: [{ resource: RESOURCE, scopeSpans: [{ scope: SCOPE, spans }] }] };
}
