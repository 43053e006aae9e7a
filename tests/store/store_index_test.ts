import assert from "node:assert/strict";
import { type IndexedRecord, StoreIndex } from "../../src/store/store_index.ts";

function addSegment(index: StoreIndex, number: number) {
  return index.addSegment({
    number,
    path: `seg-${number}`,
    size: 1000,
    scannedEnd: 1000,
    createdMs: 0,
    appendable: true,
    file: null,
  });
}

function record(seq: number, flowId: string | null, minTs: number, maxTs = minTs, errors = 0) {
  return {
    start: seq * 100,
    end: seq * 100 + 100,
    seq,
    flowId,
    eventCount: 10,
    errorCount: errors,
    maxSeverity: errors > 0 ? 17 : 9,
    minTs,
    maxTs,
  };
}

Deno.test("StoreIndex.listFlows() lists flows newest first with counts from headers", () => {
  const index = new StoreIndex();
  const s1 = addSegment(index, 1);
  index.addRecord(s1, record(1, "a", 10, 20, 2));
  index.addRecord(s1, record(2, "b", 15, 40));
  index.addRecord(s1, record(3, null, 5, 50));
  index.addRecord(s1, record(4, "a", 30, 35, 1));
  index.addRecord(s1, record(5, "c", 1, 40));
  assert.deepEqual(index.listFlows(), [
    { flow_id: "b", first_ts_ms: 15, last_ts_ms: 40, event_count: 10, error_count: 0 },
    { flow_id: "c", first_ts_ms: 1, last_ts_ms: 40, event_count: 10, error_count: 0 },
    { flow_id: "a", first_ts_ms: 10, last_ts_ms: 35, event_count: 20, error_count: 3 },
  ]);
  assert.equal(index.records, 5);
  assert.equal(index.events, 50);
  assert.equal(index.bytes, 1000);
});

Deno.test("StoreIndex.removeSegment() drops the segment's records from every flow", () => {
  const index = new StoreIndex();
  const s1 = addSegment(index, 1);
  const s2 = addSegment(index, 2);
  index.addRecord(s1, record(1, "a", 10));
  index.addRecord(s1, record(2, "gone", 11));
  index.addRecord(s2, record(3, "a", 30));
  assert.deepEqual(index.removeSegment(s1), { records: 2, events: 20, bytes: 1000 });
  assert.deepEqual(index.listFlows(), [
    { flow_id: "a", first_ts_ms: 30, last_ts_ms: 30, event_count: 10, error_count: 0 },
  ]);
  assert.deepEqual(index.flowRecords("a")!.map((r: IndexedRecord) => r.seq), [3]);
  assert.deepEqual(index.flowRecords("gone"), []);
  assert.deepEqual(index.segments.map((s) => s.number), [2]);
  assert.equal(index.records, 1);
});

Deno.test("StoreIndex.removeSegment() handles a segment that is not the oldest", () => {
  const index = new StoreIndex();
  const s1 = addSegment(index, 1);
  const s2 = addSegment(index, 2);
  const s3 = addSegment(index, 3);
  index.addRecord(s1, record(1, "a", 10));
  index.addRecord(s2, record(2, "a", 20));
  index.addRecord(s2, record(3, "b", 21));
  index.addRecord(s3, record(4, "a", 30));
  index.removeSegment(s2);
  assert.deepEqual(index.flowRecords("a")!.map((r) => r.seq), [1, 4]);
  assert.deepEqual(index.listFlows().map((f) => f.flow_id), ["a"]);
  index.removeSegment(s1);
  assert.deepEqual(index.flowRecords("a")!.map((r) => r.seq), [4]);
  assert.equal(index.listFlows()[0]!.first_ts_ms, 30);
  assert.deepEqual(index.removeSegment(s1), { records: 0, events: 0, bytes: 0 });
});

Deno.test("StoreIndex.removeSegment() keeps memory bounded for a flow that is written and evicted, never read", () => {
  // Retention at work under a write-only load: one long-lived flow, the
  // oldest segment removed as each new one fills; no query ever compacts.
  const index = new StoreIndex();
  const live: ReturnType<typeof addSegment>[] = [];
  let seq = 0;
  for (let n = 1; n <= 5_000; n++) {
    const segment = addSegment(index, n);
    for (let r = 0; r < 4; r++) index.addRecord(segment, record(++seq, "f", seq));
    live.push(segment);
    if (live.length > 10) index.removeSegment(live.shift()!);
  }
  assert.equal(index.records, 40);
  assert.ok(
    index.retainedRefs <= 2 * index.records + 1024,
    `${index.retainedRefs} refs retained for ${index.records} live records`,
  );
  // The live records are still the ones a query sees, in order.
  assert.deepEqual(
    index.flowRecords("f")!.map((r) => r.seq),
    live.flatMap((s) => s.records.map((r) => r.seq)),
  );
});

Deno.test("StoreIndex.flowRecords() is empty for an unknown flow, null for an id no record can carry", () => {
  const index = new StoreIndex();
  index.addRecord(addSegment(index, 1), record(1, "a", 5));
  assert.deepEqual(index.flowRecords("a")!.map((r) => r.seq), [1]);
  assert.deepEqual(index.flowRecords("b"), []);
  // Too long for a record header, or not well-formed: such events are in records without a flow.
  assert.equal(index.flowRecords("x".repeat(30_000)), null);
  assert.equal(index.flowRecords("\uD800"), null);
});
