import assert from "node:assert/strict";
import { JsonLogsSerializer, JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { LogEvent } from "../../src/event.ts";
import type { LevelName } from "../../src/level.ts";
import {
  FLIGHTLOG_VERSION,
  msToUnixNano,
  toAnyValue,
  toOtlpLogs,
  toOtlpTraces,
} from "../../src/export/otlp.ts";
import { spanContextOf, traceIdOf } from "../../src/export/spans.ts";
import { makeEvent } from "../support/log_event.ts";

const T0 = 1_700_000_000_000;

function event(
  ts_ms: number,
  name: string,
  fields: Record<string, unknown>,
  level: LevelName = "info",
  seq = ts_ms - T0 + 1,
): LogEvent {
  return makeEvent(ts_ms, fields, { event: name, level, producer: "a1b2.1", seq });
}

/** [seconds, nanoseconds], the SDK's HrTime, from epoch ms with at most µs precision. */
function hrTime(ms: number): [number, number] {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/** The official JSON encoding writes int64 attribute values as JSON numbers; the proto3 JSON mapping's canonical form is a string, which receivers accept as well. */
function canonicalInts(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalInts);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map((
        [key, inner],
      ) => [key, key === "intValue" ? String(inner) : canonicalInts(inner)]),
    );
  }
  return value;
}

function official(bytes: Uint8Array | undefined): unknown {
  assert.ok(bytes !== undefined, "the official serializer rejected the input");
  return canonicalInts(JSON.parse(new TextDecoder().decode(bytes)));
}

function json(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

const RESOURCE = { attributes: { "service.name": "agent", "host.name": "edge-1" } };
const SCOPE = { name: "flightlog", version: FLIGHTLOG_VERSION };

Deno.test("toOtlpLogs() matches the official OpenTelemetry JSON encoding of the same records", () => {
  const events = [
    event(T0 + 0.5, "run_start", { flow_id: "f-1", run_id: "r-1" }),
    event(T0 + 12.25, "step_end", {
      flow_id: "f-1",
      run_id: "r-1",
      job_id: "j",
      step_id: "fetch",
      status: "failed",
      duration_ms: 11.75,
      attempts: 3,
      retry: true,
      tags: ["a", 2, 2.5, false],
      error: { name: "TimeoutError", message: "timed out", code: "ETIMEDOUT" },
      nothing: null,
    }, "error"),
    event(T0 + 20, "llm_call", {
      flow_id: "f-1",
      trace_id: "4BF92F3577B34DA6A3CE929D0E0E4736",
      span_id: "00f067aa0ba902b7",
      tokens: 1234,
    }, "debug"),
    event(T0 + 30, "log.dropped", { count: 5, since_ms: T0, until_ms: T0 + 29 }, "warn"),
  ];
  const ours = toOtlpLogs(events, { resource: RESOURCE.attributes });

  const records = events.map((e) => {
    const context = spanContextOf(e.fields);
    return {
      resource: RESOURCE,
      instrumentationScope: SCOPE,
      hrTime: hrTime(e.ts_ms),
      hrTimeObserved: hrTime(e.ts_ms),
      severityNumber: e.severity,
      severityText: e.level.toUpperCase(),
      body: e.event,
      eventName: e.event,
      attributes: { ...e.fields, "log.record.uid": `${e.producer}:${e.seq}` },
      droppedAttributesCount: 0,
      ...(context === null
        ? {}
        : { spanContext: { traceId: context.trace_id, spanId: context.span_id, traceFlags: 1 } }),
    };
  });
  const theirs = official(JsonLogsSerializer.serializeRequest(records as never));
  assert.deepEqual(json(ours), theirs);

  const logRecords = ours.resourceLogs[0]!.scopeLogs[0]!.logRecords;
  assert.equal(logRecords[1]!.timeUnixNano, "1700000000012250000");
  assert.equal(logRecords[2]!.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.equal(logRecords[2]!.spanId, "00f067aa0ba902b7");
  assert.equal(logRecords[3]!.traceId, undefined);
  assert.deepEqual(logRecords.map((r) => r.severityNumber), [9, 17, 5, 13]);
});

Deno.test("toOtlpTraces() matches the official OpenTelemetry JSON encoding of the expected spans", () => {
  const base = { flow_id: "f-1", run_id: "r-1" };
  const events = [
    event(T0, "run_start", base),
    event(T0 + 1, "step_start", { ...base, step_id: "fetch", step_type: "http" }),
    event(T0 + 3, "http_call", { ...base, step_id: "fetch", url: "https://x", ms: 1.5 }, "warn"),
    event(T0 + 5, "step_end", {
      ...base,
      step_id: "fetch",
      step_type: "http",
      status: "failed",
      duration_ms: 4,
      error: "timed out",
    }, "error"),
    event(T0 + 10, "run_end", { ...base, status: "ok", duration_ms: 10 }),
  ];
  const ours = toOtlpTraces(events, { resource: RESOURCE.attributes });

  const traceId = traceIdOf(base);
  const runId = spanContextOf(base)!.span_id;
  const stepId = spanContextOf({ ...base, step_id: "fetch" })!.span_id;
  const span = (
    name: string,
    spanId: string,
    parent: string | undefined,
    start: number,
    end: number,
    attributes: Record<string, unknown>,
    status: { code: number; message?: string },
    spanEvents: { name: string; time: [number, number]; attributes: Record<string, unknown> }[],
  ) => ({
    name,
    kind: 0, // SpanKind.INTERNAL in the API, 1 on the wire
    spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
    parentSpanContext: parent === undefined
      ? undefined
      : { traceId, spanId: parent, traceFlags: 1, isRemote: false },
    startTime: hrTime(start),
    endTime: hrTime(end),
    attributes,
    droppedAttributesCount: 0,
    events: spanEvents.map((e) => ({ ...e, droppedAttributesCount: 0 })),
    droppedEventsCount: 0,
    status,
    links: [],
    droppedLinksCount: 0,
    resource: RESOURCE,
    instrumentationScope: SCOPE,
  });
  const expected = [
    span(
      "r-1",
      runId,
      undefined,
      T0,
      T0 + 10,
      {
        ...base,
        "flightlog.span.kind": "run",
        "flightlog.status": "ok",
        "flightlog.duration_ms": 10,
      },
      { code: 1 },
      [],
    ),
    span(
      "fetch",
      stepId,
      runId,
      T0 + 1,
      T0 + 5,
      {
        ...base,
        step_id: "fetch",
        step_type: "http",
        "flightlog.span.kind": "step",
        "flightlog.status": "failed",
        "flightlog.duration_ms": 4,
      },
      { code: 2, message: "timed out" },
      [{
        name: "http_call",
        time: hrTime(T0 + 3),
        attributes: {
          ...events[2]!.fields,
          "log.record.uid": `a1b2.1:4`,
          "log.severity_text": "WARN",
        },
      }],
    ),
  ];
  const theirs = official(JsonTraceSerializer.serializeRequest(expected as never));
  assert.deepEqual(json(ours), theirs);
});

Deno.test("msToUnixNano() writes nanoseconds as a decimal string without losing digits", () => {
  assert.equal(msToUnixNano(T0), "1700000000000000000");
  assert.equal(msToUnixNano(T0 + 0.001), "1700000000000001000");
  assert.equal(msToUnixNano(1.9999999), "2000000");
  assert.equal(msToUnixNano(0), "0");
  assert.equal(msToUnixNano(-1), "0");
  assert.equal(msToUnixNano(NaN), "0");
});

Deno.test("toAnyValue() follows the proto3 JSON mapping for values JSON numbers cannot carry", () => {
  assert.deepEqual(toAnyValue(NaN), { doubleValue: "NaN" });
  assert.deepEqual(toAnyValue(-Infinity), { doubleValue: "-Infinity" });
  assert.deepEqual(toAnyValue(2n ** 63n - 1n), { intValue: "9223372036854775807" });
  assert.deepEqual(toAnyValue(2n ** 64n), { stringValue: "18446744073709551616" });
  assert.deepEqual(toAnyValue(2 ** 60), { doubleValue: 2 ** 60 });
  assert.deepEqual(toAnyValue(new Date(0)), { stringValue: "1970-01-01T00:00:00.000Z" });
  assert.deepEqual(toAnyValue(undefined), {});
  assert.deepEqual(toAnyValue({ a: { b: 1 } }), {
    kvlistValue: {
      values: [{
        key: "a",
        value: { kvlistValue: { values: [{ key: "b", value: { intValue: "1" } }] } },
      }],
    },
  });
});

Deno.test("toOtlpLogs() gives every record a stable unique log.record.uid and defaults service.name", () => {
  const events = [
    event(T0, "a", { flow_id: "f" }, "info", 1),
    event(T0, "b", { flow_id: "f" }, "info", 2),
  ];
  const first = toOtlpLogs(events);
  const again = toOtlpLogs(events);
  assert.deepEqual(first, again);
  const uids = first.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) =>
    r.attributes.find((a) => a.key === "log.record.uid")?.value.stringValue
  );
  assert.deepEqual(uids, ["a1b2.1:1", "a1b2.1:2"]);
  assert.deepEqual(first.resourceLogs[0]!.resource.attributes, [
    { key: "service.name", value: { stringValue: "flightlog" } },
  ]);
  assert.deepEqual(first.resourceLogs[0]!.scopeLogs[0]!.scope, SCOPE);
});

Deno.test("toOtlpLogs() rejects invalid options with a TypeError", () => {
  assert.throws(() => toOtlpLogs([], { resource: 5 as never }), TypeError);
  assert.throws(() => toOtlpTraces([], { scopeName: 5 as never }), TypeError);
});
