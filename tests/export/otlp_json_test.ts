import assert from "node:assert/strict";
import fc from "fast-check";
import type { LogEvent } from "../../src/event.ts";
import { toOtlpLogs } from "../../src/export/otlp.ts";
import { encodeOtlpLogs } from "../../src/export/otlp_json.ts";
import { makeEvent } from "../support/log_event.ts";

const T0 = 1_700_000_000_000;

function event(ts_ms: number, name: string, fields: Record<string, unknown>): LogEvent {
  return makeEvent(ts_ms, fields, { event: name, producer: "a1b2.1", seq: 1 });
}

/** The bytes as text; a byte-for-byte comparison of UTF-8 is a comparison of the text. */
function text(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** Ids from a small pool, so that events share them, with text a naive cache key would confuse. */
const idArb = fc.oneof(
  fc.constantFrom("f", "r", "1:a", "-", "", "a\u0000b", "4bf92f3577b34da6a3ce929d0e0e4736"),
  fc.constantFrom("00f067aa0ba902b7", '"quoted"', "é\ud83d\ude00", "\ud800"),
  fc.integer({ min: -2, max: 2 }),
);
const valueArb = fc.oneof(
  fc.anything({
    withBigInt: true,
    withDate: true,
    withNullPrototype: true,
    withSparseArray: true,
    withTypedArray: true,
    withMap: true,
    withBoxedValues: true,
    stringUnit: "binary",
  }),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 2 ** 53, 2n ** 63n, -(2n ** 63n) - 1n),
  fc.double(),
  fc.date({ noInvalidDate: false }),
);
const fieldsArb = fc.record({
  flow_id: idArb,
  run_id: idArb,
  job_id: idArb,
  step_id: idArb,
  span_id: idArb,
  parent_id: idArb,
  trace_id: idArb,
  node: idArb,
  // The incoming header a continued trace carries: its flags and remote parent reach the bytes.
  traceparent: fc.constantFrom(
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-00",
    "garbage",
  ),
}, { requiredKeys: [] }).chain((ids) =>
  fc.dictionary(fc.string({ unit: "binary", maxLength: 6 }), valueArb, { maxKeys: 4 }).map(
    (rest) => ({ ...ids, ...rest }),
  )
);
const eventArb: fc.Arbitrary<LogEvent> = fc.record({
  ts_ms: fc.oneof(fc.double(), fc.integer({ min: T0, max: T0 + 1e6 })),
  level: fc.constantFrom(
    "trace",
    "debug",
    "info",
    "warn",
    "error",
    "fatal",
    "custom",
    "constructor",
  ),
  severity: fc.oneof(fc.integer({ min: 0, max: 24 }), fc.constantFrom(NaN, 9.5, -0)),
  event: fc.string({ unit: "binary", maxLength: 8 }),
  producer: fc.constantFrom("a1.1", 'b"2.1'),
  seq: fc.nat(),
  fields: fieldsArb,
}) as fc.Arbitrary<LogEvent>;

Deno.test("encodeOtlpLogs() writes exactly the bytes of JSON.stringify(toOtlpLogs()) for any events", () => {
  fc.assert(
    fc.property(fc.array(eventArb, { maxLength: 8 }), (events) => {
      assert.equal(text(encodeOtlpLogs(events)), JSON.stringify(toOtlpLogs(events)));
      const options = { resource: { "host.name": "h\n" }, scopeName: "s", scopeVersion: "1" };
      assert.equal(
        text(encodeOtlpLogs(events, options)),
        JSON.stringify(toOtlpLogs(events, options)),
      );
    }),
    { numRuns: 300 },
  );
});

Deno.test("encodeOtlpLogs() copies attributes equal to the previous record's without changing the bytes", () => {
  fc.assert(
    fc.property(
      fc.array(eventArb, { minLength: 1, maxLength: 4 }),
      fc.anything(),
      (base, extra) => {
        // Runs of equal fields, a field added, changed or reordered: every path of the copy.
        const events = base.flatMap((e) => {
          const keys = Object.keys(e.fields);
          const reordered: Record<string, unknown> = {};
          for (const key of keys.reverse()) reordered[key] = e.fields[key];
          const changed = { ...e.fields };
          if (keys.length > 0) changed[keys[0]!] = extra;
          return [
            e,
            { ...e, seq: e.seq + 1, fields: { ...e.fields } },
            { ...e, seq: e.seq + 2, fields: { ...e.fields, extra } },
            { ...e, seq: e.seq + 3, fields: changed },
            { ...e, seq: e.seq + 4, fields: reordered },
            { ...e, seq: e.seq + 5, fields: { ...e.fields } },
          ];
        });
        assert.equal(text(encodeOtlpLogs(events)), JSON.stringify(toOtlpLogs(events)));
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("encodeOtlpLogs() writes the workload events like the reference path", () => {
  const events = [
    event(T0 + 0.5, "step_end", {
      flow_id: "f-1",
      run_id: "r-1",
      step_id: "fetch",
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      duration_ms: 12.5,
      status: "ok",
      tags: ["a", 1, { deep: [true, null] }],
    }),
    event(T0 + 1, "note", { detail: 'line\nbreak "quoted" \\ \u0001' }),
    // A request handler's event: in no span, it joins the caller's unsampled span.
    event(T0 + 2, "request", {
      flow_id: "f-1",
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      parent_id: "00f067aa0ba902b7",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
    }),
  ];
  const json = text(encodeOtlpLogs(events, { resource: { "service.name": "agent" } }));
  assert.equal(json, JSON.stringify(toOtlpLogs(events, { resource: { "service.name": "agent" } })));
  const records = JSON.parse(json).resourceLogs[0].scopeLogs[0].logRecords;
  assert.equal(records.length, 3);
  assert.deepEqual([records[2].traceId, records[2].spanId, records[2].flags], [
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "00f067aa0ba902b7",
    0,
  ]);
});
