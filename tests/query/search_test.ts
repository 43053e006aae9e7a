import assert from "node:assert/strict";
import type { LogEvent } from "../../src/event.ts";
import { compareEvents } from "../../src/query/flow_log.ts";
import type { RecordSummary } from "../../src/query/record.ts";
import {
  PageSearch,
  type QueryIndex,
  readFlowLog,
  type RecordGroup,
  searchIndex,
} from "../../src/query/search.ts";
import type { QueryFilter } from "../../src/query/types.ts";
import { makeEvent } from "../support/log_event.ts";
import { allPages } from "../support/query_pages.ts";

/** A record held in memory, with its events. */
interface MemoryRecord extends RecordSummary {
  flowId: string | null;
  events: LogEvent[];
}

function memoryRecord(seq: number, events: LogEvent[]): MemoryRecord {
  const flow = events[0]!.fields.flow_id;
  return {
    seq,
    flowId: typeof flow === "string" ? flow : null,
    eventCount: events.length,
    errorCount: events.filter((e) => e.severity >= 17).length,
    maxSeverity: Math.max(...events.map((e) => e.severity)),
    minTs: Math.min(...events.map((e) => e.ts_ms)),
    maxTs: Math.max(...events.map((e) => e.ts_ms)),
    events,
  };
}

/** An index held in memory, no store behind it: records in groups of `perGroup`. */
function memoryIndex(records: MemoryRecord[], perGroup: number) {
  const segments: RecordGroup<MemoryRecord>[] = [];
  for (let i = 0; i < records.length; i += perGroup) {
    const group = records.slice(i, i + perGroup);
    segments.push({
      records: group,
      minTs: Math.min(...group.map((r) => r.minTs)),
      maxTs: Math.max(...group.map((r) => r.maxTs)),
      maxSeverity: Math.max(...group.map((r) => r.maxSeverity)),
    });
  }
  const loaded: number[] = [];
  const index: QueryIndex<MemoryRecord> = {
    segments,
    flowRecords: (flowId) =>
      flowId.startsWith("bad") ? null : records.filter((r) => r.flowId === flowId),
  };
  const load = (rs: readonly MemoryRecord[]) => {
    for (const r of rs) loaded.push(r.seq);
    return rs.map((r) => [r, r.events] as const);
  };
  return { index, load, loaded };
}

/** 60 records of 5 events, three flows interleaved, an error in every seventh record. */
function sixtyRecords(): MemoryRecord[] {
  const records: MemoryRecord[] = [];
  for (let seq = 1; seq <= 60; seq++) {
    const events: LogEvent[] = [];
    for (let i = 0; i < 5; i++) {
      const ts = seq * 10 + i;
      events.push(makeEvent(ts, { flow_id: `f${seq % 3}`, i }, {
        level: seq % 7 === 0 && i === 2 ? "error" : "info",
        seq: ts,
      }));
    }
    records.push(memoryRecord(seq, events));
  }
  return records;
}

/** Every page of `filter`, followed by cursor. */

Deno.test("searchIndex() answers over any QueryIndex as a scan of every event would", () => {
  const records = sixtyRecords();
  const { index, load } = memoryIndex(records, 8);
  const every = records.flatMap((r) => r.events).sort(compareEvents);
  const filters: QueryFilter[] = [
    {},
    { level: "error" },
    { flow_id: "f1" },
    { flow_id: "bad-id" },
    { since_ms: 205, until_ms: 431 },
    { event: "step_*", where: { i: 3 } },
  ];
  for (const filter of filters) {
    for (const limit of [1, 7, 1000]) {
      const got = allPages((f) => searchIndex(index, load, f), { ...filter, limit });
      const want = every.filter((e) =>
        (filter.level === undefined || e.severity >= 17) &&
        (filter.flow_id === undefined || e.fields.flow_id === filter.flow_id) &&
        e.ts_ms >= (filter.since_ms ?? -Infinity) && e.ts_ms < (filter.until_ms ?? Infinity) &&
        (filter.where === undefined || e.fields.i === filter.where.i)
      );
      assert.deepEqual(got, want, `${JSON.stringify(filter)}, limit ${limit}`);
    }
  }
});

Deno.test("searchIndex() reads only records whose bounds allow a match, and stops at a full page", () => {
  const records = sixtyRecords();
  const errors = memoryIndex(records, 8);
  searchIndex(errors.index, errors.load, { level: "error" });
  assert.deepEqual(errors.loaded, [7, 14, 21, 28, 35, 42, 49, 56]);

  const first = memoryIndex(records, 8);
  assert.equal(searchIndex(first.index, first.load, { limit: 3 }).events.length, 3);
  assert.deepEqual(first.loaded, [1, 2, 3, 4]);

  const flow = memoryIndex(records, 8);
  searchIndex(flow.index, flow.load, { flow_id: "f2", limit: 1000 });
  assert.ok(flow.loaded.every((seq) => seq % 3 === 2), `read ${flow.loaded}`);

  // An id no record carries: the index has no list for it, every group is searched.
  const bad = memoryIndex(records, 8);
  assert.deepEqual(searchIndex(bad.index, bad.load, { flow_id: "bad-id" }).events, []);
  assert.equal(bad.loaded.length, records.length);
});

Deno.test("readFlowLog() orders the flow's events whatever order its records are read in", () => {
  const records = sixtyRecords().filter((r) => r.flowId === "f0").reverse();
  const index: QueryIndex<MemoryRecord> = {
    segments: [],
    flowRecords: (id) => (id === "f0" ? records : []),
  };
  const load = (rs: readonly MemoryRecord[]) => rs.map((r) => [r, r.events] as const);
  const log = readFlowLog(index, load, "f0");
  assert.equal(log.events.length, 100);
  assert.deepEqual(log.events, [...log.events].sort(compareEvents));
  assert.equal(log.summary.error_count, 2); // records 21 and 42
  assert.deepEqual(readFlowLog(index, load, "nope").events, []);
});

Deno.test("PageSearch.mayHold() skips records before since_ms, from until_ms, below the level and before the cursor", () => {
  const search = new PageSearch({ since_ms: 100, until_ms: 200, level: "warn" });
  assert.equal(search.mayHold(100, 150, 13), true);
  assert.equal(search.mayHold(50, 99, 13), false);
  assert.equal(search.mayHold(200, 250, 13), false);
  assert.equal(search.mayHold(100, 150, 12), false);

  const first = new PageSearch({ limit: 1 });
  first.offer(1, [makeEvent(120), makeEvent(130)]);
  const { cursor } = first.page();
  const next = new PageSearch({ limit: 1, cursor: cursor! });
  assert.equal(next.mayHold(0, 119, 9), false);
  assert.equal(next.mayHold(0, 120, 9), true);
  next.offer(1, [makeEvent(120), makeEvent(130)]);
  assert.deepEqual(next.page().events.map((e) => e.ts_ms), [130]);
});
