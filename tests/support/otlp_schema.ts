/**
 * Checks OTLP/JSON requests against the official OpenTelemetry definitions:
 * the reference is what `@opentelemetry/otlp-transformer`'s own JSON
 * serializers emit for fully populated records, so every field path and leaf
 * type our payload uses must be one the official encoding uses.
 *
 * @module
 */
import { JsonLogsSerializer, JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import { TraceState } from "@opentelemetry/core";

// deno-lint-ignore no-explicit-any
type Any = any;

const resource: Any = {
  attributes: { "service.name": "ref" },
  getRawAttributes: () => [["service.name", "ref"]],
  merge: () => resource,
  schemaUrl: undefined,
};
const scope = { name: "ref", version: "1" };
const attributes = { i: 1, s: "x", b: true, d: 1.5, arr: [1, "a"], o: { k: "v", n: { m: 1 } } };

function reference(bytes: Uint8Array): Map<string, Set<string>> {
  const paths = new Map<string, Set<string>>();
  walk(JSON.parse(new TextDecoder().decode(bytes)), "", paths);
  return paths;
}

const LOGS = reference(
  JsonLogsSerializer.serializeRequest([{
    hrTime: [1, 2],
    hrTimeObserved: [1, 3],
    severityNumber: 9,
    severityText: "INFO",
    body: { text: "b", list: [1] },
    attributes,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    spanContext: {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: 1,
    },
    eventName: "ev",
  } as Any])!,
);

const context = {
  traceId: "0af7651916cd43dd8448eb211c80319c",
  spanId: "b7ad6b7169203331",
  traceFlags: 1,
  traceState: new TraceState("congo=t61rcWkgMzE"),
};
const TRACES = reference(
  JsonTraceSerializer.serializeRequest([{
    name: "span",
    kind: 1,
    spanContext: () => context,
    parentSpanContext: { ...context, spanId: "00f067aa0ba902b7" },
    startTime: [1, 0],
    endTime: [2, 0],
    duration: [1, 0],
    ended: true,
    status: { code: 2, message: "failed" },
    attributes,
    links: [],
    events: [{ name: "e", time: [1, 5], attributes, droppedAttributesCount: 0 }],
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as Any])!,
);

/** Collapses AnyValue nesting (`value.arrayValue.values`, `kvlistValue.values.value`) to `value`. */
function normalize(path: string): string {
  let p = path.replace(/\.body(?=\.|$)/g, ".value");
  let before: string;
  do {
    before = p;
    p = p.replace(/\.value\.arrayValue\.values(?=\.|$)/g, ".value")
      .replace(/\.value\.kvlistValue\.values\.value(?=\.|$)/g, ".value");
  } while (p !== before);
  return p;
}

function walk(node: unknown, path: string, out: Map<string, Set<string>>): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, path, out);
    return;
  }
  if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) walk(value, `${path}.${key}`, out);
    return;
  }
  const p = normalize(path);
  let types = out.get(p);
  if (types === undefined) out.set(p, types = new Set());
  types.add(typeof node);
}

/** Leaves whose proto JSON mapping accepts a number or a string (int64). */
const INT64 = /(intValue|rejectedLogRecords|rejectedSpans)$/;

/**
 * Decodes an OTLP/JSON request body and checks every field path and leaf
 * type against the official encoding; throws an Error naming the first
 * field the official definitions do not have.
 */
export function decodeOtlpRequest(signal: "logs" | "traces", body: Uint8Array): Any {
  const request = JSON.parse(new TextDecoder().decode(body));
  const ref = signal === "logs" ? LOGS : TRACES;
  const seen = new Map<string, Set<string>>();
  walk(request, "", seen);
  if (seen.size === 0) throw new Error(`Empty OTLP ${signal} request`);
  for (const [path, types] of seen) {
    const allowed = ref.get(path);
    if (allowed === undefined) throw new Error(`OTLP ${signal} request has unknown field ${path}`);
    for (const t of types) {
      if (!allowed.has(t) && !(INT64.test(path) && (t === "string" || t === "number"))) {
        throw new Error(`OTLP ${signal} field ${path} is a ${t}, not a ${[...allowed].join("/")}`);
      }
    }
  }
  return request;
}

/**
 * The ids of the items of a decoded request, in order: a log record's
 * `log.record.uid`, a span's `<traceId>:<spanId>`.
 */
export function uidsOf(signal: "logs" | "traces", request: Any): string[] {
  const uids: string[] = [];
  const items: Any[] = [];
  if (signal === "logs") {
    for (const r of request.resourceLogs) for (const s of r.scopeLogs) items.push(...s.logRecords);
  } else {
    for (const r of request.resourceSpans) for (const s of r.scopeSpans) items.push(...s.spans);
  }
  for (const item of items) {
    if (signal === "traces") {
      uids.push(`${item.traceId}:${item.spanId}`);
      continue;
    }
    const attr = (item.attributes ?? []).find((a: Any) => a.key === "log.record.uid");
    if (attr === undefined) throw new Error("An OTLP item has no log.record.uid attribute");
    uids.push(attr.value.stringValue);
  }
  return uids;
}
