/**
 * Reading a segment store by position, as the uplink does: a position is a
 * record sequence number, and these find the records after one in the
 * index, without reading any.
 *
 * @module
 */
import type { RecordExtent } from "./record.ts";
import type { IndexedRecord, StoreIndex } from "./store_index.ts";

/** Records, events and bytes stored after a position. */
export interface BacklogCounts {
  /** Records. */
  records: number;
  /** Events in them. */
  events: number;
  /** Their bytes on disk. */
  bytes: number;
}

/**
 * The records after position `afterSeq`, oldest first, until `maxEvents`
 * events (always at least one record when there is one).
 *
 * @example A budget of events
 * ```ts
 * import { recordsToRead } from "./positions.ts";
 * import { StoreIndex } from "./store_index.ts";
 * import assert from "node:assert/strict";
 * const index = new StoreIndex();
 * const segment = index.addSegment({ number: 1, path: "s", size: 0, scannedEnd: 0, createdMs: 0, appendable: true, file: null });
 * for (const seq of [1, 2, 3]) {
 *   index.addRecord(segment, { seq, flowId: null, start: 0, end: 0, eventCount: 10, errorCount: 0, maxSeverity: 9, minTs: 0, maxTs: 0 });
 * }
 * assert.deepEqual(recordsToRead(index, 1, 15).map((r) => r.seq), [2]);
 * assert.deepEqual(recordsToRead(index, 1, 5).map((r) => r.seq), [2]);
 * assert.deepEqual(recordsToRead(index, 0, 20).map((r) => r.seq), [1, 2]);
 * ```
 */
export function recordsToRead(
  index: StoreIndex,
  afterSeq: number,
  maxEvents: number,
): IndexedRecord[] {
  const refs: IndexedRecord[] = [];
  let events = 0;
  for (const segment of index.segments) {
    const records = segment.records;
    if (records.length === 0 || records.at(-1)!.seq <= afterSeq) continue;
    for (let i = firstAfter(records, afterSeq); i < records.length; i++) {
      const ref = records[i]!;
      if (refs.length > 0 && events + ref.eventCount > maxEvents) return refs;
      refs.push(ref);
      events += ref.eventCount;
    }
  }
  return refs;
}

/**
 * Up to `maxRecords` records after position `afterSeq`, oldest first.
 *
 * @example
 * ```ts
 * import { recordsAfter } from "./positions.ts";
 * import { StoreIndex } from "./store_index.ts";
 * import assert from "node:assert/strict";
 * const index = new StoreIndex();
 * const segment = index.addSegment({ number: 1, path: "s", size: 0, scannedEnd: 0, createdMs: 0, appendable: true, file: null });
 * for (const seq of [1, 2, 3]) {
 *   index.addRecord(segment, { seq, flowId: null, start: 0, end: 0, eventCount: 1, errorCount: 0, maxSeverity: 9, minTs: 0, maxTs: 0 });
 * }
 * assert.deepEqual(recordsAfter(index, 1, 1).map((r) => r.seq), [2]);
 * ```
 */
export function recordsAfter(
  index: StoreIndex,
  afterSeq: number,
  maxRecords: number,
): RecordExtent[] {
  const out: RecordExtent[] = [];
  for (const segment of index.segments) {
    const records = segment.records;
    if (records.length === 0 || records.at(-1)!.seq <= afterSeq) continue;
    for (let i = firstAfter(records, afterSeq); i < records.length; i++) {
      if (out.length >= maxRecords) return out;
      out.push(records[i]!);
    }
  }
  return out;
}

/**
 * Counts the records, events and bytes after position `afterSeq`.
 *
 * @example
 * ```ts
 * import { backlogAfter } from "./positions.ts";
 * import { StoreIndex } from "./store_index.ts";
 * import assert from "node:assert/strict";
 * const index = new StoreIndex();
 * const segment = index.addSegment({ number: 1, path: "s", size: 0, scannedEnd: 0, createdMs: 0, appendable: true, file: null });
 * for (const seq of [1, 2]) {
 *   index.addRecord(segment, { seq, flowId: null, start: seq * 100, end: seq * 100 + 60, eventCount: 3, errorCount: 0, maxSeverity: 9, minTs: 0, maxTs: 0 });
 * }
 * assert.deepEqual(backlogAfter(index, 1), { records: 1, events: 3, bytes: 60 });
 * ```
 */
export function backlogAfter(index: StoreIndex, afterSeq: number): BacklogCounts {
  const counts = { records: 0, events: 0, bytes: 0 };
  for (const segment of index.segments) {
    const records = segment.records;
    if (records.length === 0 || records.at(-1)!.seq <= afterSeq) continue;
    if (records[0]!.seq > afterSeq) {
      counts.records += records.length;
      counts.events += segment.events;
      counts.bytes += records.at(-1)!.end - records[0]!.start;
      continue;
    }
    for (let i = firstAfter(records, afterSeq); i < records.length; i++) {
      const ref = records[i]!;
      counts.records++;
      counts.events += ref.eventCount;
      counts.bytes += ref.end - ref.start;
    }
  }
  return counts;
}

/** Index of the first record with a sequence number above `seq` (records are in seq order). */
function firstAfter(records: readonly IndexedRecord[], seq: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (records[mid]!.seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
