import assert from "node:assert/strict";
import { encodeBatch } from "../../src/store/batch_encoder.ts";
import { scanRecords } from "../../src/store/record_scanner.ts";
import { unpackEvents } from "../../src/store/payload_codec.ts";
import { MAX_FLOW_ID_LENGTH } from "../../src/store/segment_format.ts";
import { marked } from "./_helpers.ts";
import { makeEvent } from "../support/log_event.ts";

Deno.test("encodeBatch() writes one record per string flow id and one for the rest", () => {
  const long = "x".repeat(MAX_FLOW_ID_LENGTH + 1);
  const events = [
    makeEvent(3, { flow_id: "a" }),
    makeEvent(1, { flow_id: 7 }),
    makeEvent(2, { flow_id: "b" }, { level: "error", severity: 17 }),
    makeEvent(5, { flow_id: "a" }, { level: "fatal", severity: 21 }),
    makeEvent(4, {}),
    makeEvent(6, { flow_id: long }),
    makeEvent(0, { flow_id: "" }),
    makeEvent(7, marked({ flow_id: "\uD800" })),
  ];
  const batch = encodeBatch(events, 40);
  const summary = batch.records.map((r) => ({
    flowId: r.flowId,
    seq: r.seq,
    count: r.eventCount,
    errors: r.errorCount,
    max: r.maxSeverity,
    minTs: r.minTs,
    maxTs: r.maxTs,
  }));
  assert.deepEqual(summary, [
    { flowId: "a", seq: 40, count: 2, errors: 1, max: 21, minTs: 3, maxTs: 5 },
    { flowId: null, seq: 41, count: 4, errors: 0, max: 9, minTs: 1, maxTs: 7 },
    { flowId: "b", seq: 42, count: 1, errors: 1, max: 17, minTs: 2, maxTs: 2 },
    { flowId: "", seq: 43, count: 1, errors: 0, max: 9, minTs: 0, maxTs: 0 },
  ]);
  const scanned = scanRecords(batch.bytes);
  assert.deepEqual(
    scanned.records.map((r) => [r.start, r.end, r.flowId]),
    batch.records.map((r) => [r.start, r.end, r.flowId]),
  );
  const noFlow = scanned.records[1]!;
  const unpacked = unpackEvents(batch.bytes.subarray(noFlow.payloadStart, noFlow.end));
  assert.deepEqual(unpacked.slice(0, 3), [events[1], events[4], events[5]]);
  // Not a flow (the record header holds UTF-8), but the value comes back as it was.
  assert.equal(unpacked[3]!.fields.flow_id, "\uD800");
});

Deno.test("encodeBatch() clamps severities into the header byte", () => {
  const batch = encodeBatch([
    makeEvent(1, {}, { severity: 300 }),
    makeEvent(2, {}, { severity: 12.7 }),
    makeEvent(3, {}, { severity: NaN }),
  ], 1);
  assert.equal(batch.records[0]!.maxSeverity, 255);
  assert.equal(encodeBatch([makeEvent(1, {}, { severity: 12.7 })], 1).records[0]!.maxSeverity, 12);
  assert.equal(encodeBatch([makeEvent(1, {}, { severity: NaN })], 1).records[0]!.maxSeverity, 0);
});

Deno.test("encodeBatch() throws on an event it cannot pack", () => {
  assert.throws(() => encodeBatch([makeEvent(1, { s: Symbol("x") })], 1));
});
