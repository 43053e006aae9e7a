import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeBatch } from "../../src/store/batch_encoder.ts";
import { readRecordAt, scanRecords } from "../../src/store/record_scanner.ts";
import { RECORD_HEADER, recordSize, writeRecord } from "../../src/store/segment_format.ts";
import { makeEvent } from "../support/log_event.ts";

interface Written {
  bytes: Uint8Array;
  /** [start, end) of each record in `bytes`. */
  bounds: [number, number][];
  seqs: number[];
}

/** Frames `count` records (alternating flows and no flow) back to back, seq from `firstSeq`. */
function writeRecords(count: number, firstSeq = 1): Written {
  const events = [];
  for (let i = 0; i < count; i++) {
    const fields = i % 3 === 2 ? { i } : { flow_id: `flow-${i}`, i };
    events.push(makeEvent(100 + i, fields, { seq: i + 1 }));
  }
  // One event per flow and one no-flow group: build records one at a time to control their order.
  const parts = events.map((event, i) => encodeBatch([event], firstSeq + i));
  const total = parts.reduce((n, p) => n + p.bytes.length, 0);
  const bytes = new Uint8Array(total);
  const bounds: [number, number][] = [];
  let at = 0;
  for (const part of parts) {
    bytes.set(part.bytes, at);
    bounds.push([at, at + part.bytes.length]);
    at += part.bytes.length;
  }
  return { bytes, bounds, seqs: parts.map((_, i) => firstSeq + i) };
}

function concat(...chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

Deno.test("scanRecords() returns every intact record with its header fields", () => {
  const written = writeRecords(4);
  const result = scanRecords(written.bytes);
  assert.deepEqual(result.records.map((r) => [r.start, r.end]), written.bounds);
  assert.deepEqual(result.records.map((r) => r.seq), [1, 2, 3, 4]);
  assert.deepEqual(result.records.map((r) => r.flowId), ["flow-0", "flow-1", null, "flow-3"]);
  assert.equal(result.records[0]!.minTs, 100);
  assert.equal(result.records[0]!.maxSeverity, 9);
  assert.equal(result.records[0]!.eventCount, 1);
  assert.equal(result.damage.regions, 0);
  assert.equal(result.validEnd, written.bytes.length);
  assert.equal(result.lastSeq, 4);
});

Deno.test("scanRecords() recovers from a cut at every byte of the last three records", () => {
  const written = writeRecords(5);
  const firstCut = written.bounds[2]![0];
  for (let cut = firstCut; cut <= written.bytes.length; cut++) {
    const result = scanRecords(written.bytes.subarray(0, cut));
    const intact = written.bounds.filter(([, end]) => end <= cut);
    assert.deepEqual(result.records.map((r) => [r.start, r.end]), intact, `cut ${cut}`);
    const tornStart = intact.at(-1)![1];
    if (cut === tornStart) {
      assert.equal(result.damage.regions, 0, `cut ${cut}`);
    } else {
      assert.equal(result.damage.regions, 1, `cut ${cut}`);
      assert.equal(result.damage.torn_tail, 1, `cut ${cut}`);
      assert.equal(result.damage.bytes, cut - tornStart, `cut ${cut}`);
    }
    assert.equal(result.validEnd, tornStart);
  }
});

Deno.test("scanRecords() skips exactly the record with any one flipped bit", () => {
  const written = writeRecords(3);
  const [start, end] = written.bounds[1]!;
  const kinds = new Set<string>();
  for (let bit = start * 8; bit < end * 8; bit++) {
    const bytes = written.bytes.slice();
    bytes[bit >> 3]! ^= 1 << (bit & 7);
    const result = scanRecords(bytes);
    assert.deepEqual(result.records.map((r) => r.seq), [1, 3], `bit ${bit}`);
    assert.deepEqual(result.records.map((r) => [r.start, r.end]), [
      written.bounds[0],
      written.bounds[2],
    ]);
    assert.equal(result.damage.regions, 1, `bit ${bit}`);
    assert.equal(result.damage.bytes, end - start, `bit ${bit}`);
    for (const kind of ["bad_magic", "bad_length", "bad_checksum", "bad_header"] as const) {
      if (result.damage[kind] > 0) kinds.add(kind);
    }
  }
  assert.deepEqual([...kinds].sort(), ["bad_checksum", "bad_length", "bad_magic"]);
});

Deno.test("scanRecords() never joins the last record to garbage when a bit flips in it", () => {
  const written = writeRecords(2);
  const [start, end] = written.bounds[1]!;
  for (let bit = start * 8; bit < end * 8; bit++) {
    const bytes = written.bytes.slice();
    bytes[bit >> 3]! ^= 1 << (bit & 7);
    const result = scanRecords(bytes);
    assert.deepEqual(result.records.map((r) => r.seq), [1], `bit ${bit}`);
    assert.equal(result.damage.regions, 1);
    assert.equal(result.damage.bytes, end - start);
    assert.equal(result.validEnd, start);
  }
});

Deno.test("scanRecords() rejects length 0 and 0xFFFFFFFF before reading on", () => {
  // 100_000 is a plausible length running past the input: a torn tail when nothing follows.
  for (const length of [0, 0xffffffff, 0x7fffffff, 100_000]) {
    const written = writeRecords(3);
    const [start, end] = written.bounds[1]!;
    new DataView(written.bytes.buffer).setUint32(start + RECORD_HEADER.payloadLength, length, true);
    const result = scanRecords(written.bytes);
    assert.deepEqual(result.records.map((r) => r.seq), [1, 3], `length ${length}`);
    assert.equal(result.damage.bad_length, 1, `length ${length}`);
    assert.equal(result.damage.bytes, end - start);
    // At the end of the input only a plausible length reads as a torn tail.
    const last = writeRecords(1);
    new DataView(last.bytes.buffer).setUint32(RECORD_HEADER.payloadLength, length, true);
    const alone = scanRecords(last.bytes);
    assert.equal(alone.records.length, 0);
    assert.equal(
      alone.damage[length === 100_000 ? "torn_tail" : "bad_length"],
      1,
      `length ${length}`,
    );
  }
});

Deno.test("scanRecords() counts duplicated and stale records and skips them", () => {
  const written = writeRecords(3);
  const [start, end] = written.bounds[1]!;
  const duplicated = concat(written.bytes, written.bytes.subarray(start, end));
  const result = scanRecords(duplicated);
  assert.deepEqual(result.records.map((r) => r.seq), [1, 2, 3]);
  assert.equal(result.damage.stale_records, 1);
  assert.equal(result.damage.stale_bytes, end - start);
  assert.equal(result.damage.regions, 0);
  assert.equal(result.validEnd, duplicated.length);

  const after = scanRecords(written.bytes, { afterSeq: 2 });
  assert.deepEqual(after.records.map((r) => r.seq), [3]);
  assert.equal(after.damage.stale_records, 2);
  assert.equal(after.lastSeq, 3);
});

Deno.test("scanRecords() counts garbage between records as one bad-magic region", () => {
  const written = writeRecords(2);
  const [, firstEnd] = written.bounds[0]!;
  const garbage = Uint8Array.of(0xc1, 0xf7, 0x0b, 0x9a, 1, 2, 3, 0xc1, 0, 0xc1, 0xf7);
  const bytes = concat(
    written.bytes.subarray(0, firstEnd),
    Uint8Array.of(7, 7),
    garbage,
    written.bytes.subarray(firstEnd),
  );
  const result = scanRecords(bytes);
  assert.deepEqual(result.records.map((r) => r.seq), [1, 2]);
  assert.equal(result.damage.regions, 1);
  assert.equal(result.damage.bad_magic, 1);
  assert.equal(result.damage.bytes, 2 + garbage.length);
});

Deno.test("scanRecords() leaves an unfinished tail uncounted when asked", () => {
  const written = writeRecords(2);
  const cut = written.bounds[1]![0] + 10;
  const result = scanRecords(written.bytes.subarray(0, cut), { countTail: false });
  assert.equal(result.records.length, 1);
  assert.equal(result.damage.regions, 0);
  assert.equal(result.validEnd, written.bounds[1]![0]);
});

Deno.test("scanRecords() counts a record whose CRC matches but whose header is invalid", () => {
  const payload = Uint8Array.of(0x90);
  const summary = { seq: 2, eventCount: 1, errorCount: 0, maxSeverity: 9, minTs: 1, maxTs: 1 };
  const cases: [string, Partial<typeof summary>, Uint8Array | null][] = [
    ["no events", { eventCount: 0 }, null],
    ["more errors than events", { errorCount: 2 }, null],
    ["seq 0", { seq: 0 }, null],
    ["invalid UTF-8 flow id", {}, Uint8Array.of(0xff, 0xfe)],
  ];
  for (const [name, change, flow] of cases) {
    const written = writeRecords(2);
    const bad = new Uint8Array(recordSize(flow?.length ?? 0, payload.length));
    writeRecord(bad, new DataView(bad.buffer), 0, { ...summary, ...change }, flow, payload);
    const bytes = concat(written.bytes.subarray(0, written.bounds[1]![0]), bad);
    const result = scanRecords(concat(bytes, written.bytes.subarray(written.bounds[1]![0])));
    assert.deepEqual(result.records.map((r) => r.seq), [1, 2], name);
    assert.equal(result.damage.bad_header, 1, name);
    assert.equal(result.damage.bytes, bad.length, name);
  }
});

Deno.test("readRecordAt() reports the defect at an offset", () => {
  const written = writeRecords(1);
  const view = new DataView(written.bytes.buffer);
  assert.equal(readRecordAt(written.bytes, view, 1), "magic");
  assert.equal(readRecordAt(written.bytes.subarray(0, 3), view, 0), "truncated");
  const found = readRecordAt(written.bytes, view, 0);
  assert.ok(typeof found !== "string");
  assert.equal(found.end, written.bytes.length);
});

Deno.test("scanRecords() never throws and never returns a record that was not written", () => {
  const written = writeRecords(6);
  const original = new Map(
    written.bounds.map(([s, e], i) => [written.seqs[i]!, written.bytes.subarray(s, e)]),
  );
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ maxLength: 64 }),
    }),
    fc.record({
      kind: fc.constant("copy" as const),
      at: fc.nat(),
      from: fc.nat(),
      length: fc.nat(200),
    }),
    fc.record({ kind: fc.constant("zero" as const), at: fc.nat(), length: fc.nat(100) }),
  );
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (mutations) => {
      let bytes: Uint8Array = written.bytes.slice();
      for (const m of mutations) {
        const at = bytes.length === 0 ? 0 : m.at % bytes.length;
        if (m.kind === "flip" && bytes.length > 0) bytes[at]! ^= 1 << m.bit;
        if (m.kind === "cut") bytes = bytes.slice(0, at);
        if (m.kind === "insert") bytes = concat(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
        if (m.kind === "copy" && bytes.length > 0) {
          const from = m.from % bytes.length;
          const chunk = bytes.slice(from, from + m.length);
          bytes = concat(bytes.subarray(0, at), chunk, bytes.subarray(at));
        }
        if (m.kind === "zero") bytes.fill(0, at, at + m.length);
      }
      const result = scanRecords(bytes);
      let previous = 0;
      for (const record of result.records) {
        assert.ok(record.seq > previous);
        previous = record.seq;
        assert.deepEqual(bytes.subarray(record.start, record.end), original.get(record.seq));
      }
      assert.ok(result.damage.bytes + result.damage.stale_bytes <= bytes.length);
    }),
    { numRuns: 500 },
  );
});

Deno.test("scanRecords() tells its listener each damaged region and stale record, in order", () => {
  const first = writeRecords(3);
  const again = writeRecords(1, 2); // a replayed copy of seq 2
  const bytes = concat(
    first.bytes,
    Uint8Array.of(1, 2, 3),
    again.bytes,
    first.bytes.subarray(0, 30),
  );
  const told: unknown[] = [];
  const listener = {
    region: (start: number, end: number, defect: string) =>
      told.push(["region", start, end, defect]),
    stale: (record: { seq: number }, lastSeq: number) => told.push(["stale", record.seq, lastSeq]),
  };
  const end = first.bytes.length;
  const expected = [
    ["region", end, end + 3, "magic"],
    ["stale", 2, 3],
    ["region", end + 3 + again.bytes.length, bytes.length, "truncated"],
  ];
  scanRecords(bytes, { listener });
  assert.deepEqual(told, expected);
  // An uncounted tail (a live writer's record) is still told.
  told.length = 0;
  const result = scanRecords(bytes, { listener, countTail: false });
  assert.deepEqual(told, expected);
  assert.equal(result.damage.regions, 1);
});
