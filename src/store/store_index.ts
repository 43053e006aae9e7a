/**
 * The in-memory index of a segment store, built from record headers only:
 * the segments in order, each with its records, and per flow the records of
 * that flow, so a flow's events are read without touching any other record.
 *
 * @module
 */
import type { QueryIndex } from "../query/search.ts";
import type { StoreFile } from "./fs.ts";
import type { FramedRecord } from "./record.ts";
import { isFlowId } from "./segment_format.ts";

/** What the index keeps of a record: its header's facts and where it lies in its segment file. */
export interface IndexedRecord extends Omit<FramedRecord, "payloadStart"> {
  /** The segment holding the record. */
  segment: SegmentEntry;
}

/** One segment file. */
export interface SegmentEntry {
  /** Segment number (from the file name). */
  number: number;
  /** Path of the file. */
  path: string;
  /** Bytes of the file. */
  size: number;
  /** Offset up to which the file has been scanned (the end of its last intact record). */
  scannedEnd: number;
  /** Creation time from the header, epoch ms (NaN when the header is damaged). */
  createdMs: number;
  /** True when the header is intact and of the current version, so records may be appended. */
  appendable: boolean;
  /** The segment's intact records, in file order. */
  records: IndexedRecord[];
  /** Events in those records. */
  events: number;
  /** Smallest `ts_ms` of those events. */
  minTs: number;
  /** Largest `ts_ms` of those events. */
  maxTs: number;
  /** Highest severity of those events. */
  maxSeverity: number;
  /** Open handle, if any: the append handle of the active segment or a cached read handle. */
  file: StoreFile | null;
}

/** Per-flow information, from record headers. */
export interface FlowInfo {
  /** The flow id. */
  flow_id: string;
  /** Smallest `ts_ms` of the flow's events. */
  first_ts_ms: number;
  /** Largest `ts_ms` of the flow's events. */
  last_ts_ms: number;
  /** Events of the flow. */
  event_count: number;
  /** Events with `severity` ≥ 17. */
  error_count: number;
}

// Evicted refs at the front of a flow's list are dropped (the list copied)
// once there are this many and they are at least half of it: amortized O(1).
const COMPACT_AFTER = 1024;

interface FlowEntry {
  flowId: string;
  refs: IndexedRecord[];
  /** Index of the first live ref: evicted refs are at the front and skipped, not shifted out. */
  head: number;
  events: number;
  errors: number;
  firstTs: number;
  lastTs: number;
  /** True when refs left and the time range must be recomputed. */
  rangeStale: boolean;
}

/** Totals removed by {@linkcode StoreIndex.removeSegment}. */
export interface RemovedCounts {
  /** Records removed. */
  records: number;
  /** Events in them. */
  events: number;
  /** Bytes of the segment file. */
  bytes: number;
}

/**
 * The index: segments in number order, records in sequence order.
 *
 * @example Index one record and list its flow
 * ```ts
 * import { StoreIndex } from "./store_index.ts";
 * import assert from "node:assert/strict";
 * const index = new StoreIndex();
 * const segment = index.addSegment({ number: 1, path: "seg", size: 48, scannedEnd: 48, createdMs: 0, appendable: true, file: null });
 * index.addRecord(segment, {
 *   start: 48, end: 100, seq: 1, flowId: "f", eventCount: 2, errorCount: 1,
 *   maxSeverity: 17, minTs: 5, maxTs: 9,
 * });
 * assert.deepEqual(index.listFlows(), [
 *   { flow_id: "f", first_ts_ms: 5, last_ts_ms: 9, event_count: 2, error_count: 1 },
 * ]);
 * ```
 */
export class StoreIndex implements QueryIndex<IndexedRecord> {
  /** Segments in number order. */
  readonly segments: SegmentEntry[] = [];
  readonly #flows = new Map<string, FlowEntry>();
  #records = 0;
  #events = 0;

  /** Records indexed. */
  get records(): number {
    return this.#records;
  }

  /** Events in the indexed records. */
  get events(): number {
    return this.#events;
  }

  /**
   * Record references the flows' lists hold, live or evicted and not yet
   * compacted away: at most about twice the live records plus
   * `COMPACT_AFTER` per flow (tested), whatever was ever stored.
   */
  get retainedRefs(): number {
    let n = 0;
    for (const flow of this.#flows.values()) n += flow.refs.length;
    return n;
  }

  /** Bytes of the indexed segment files. */
  get bytes(): number {
    let bytes = 0;
    for (const segment of this.segments) bytes += segment.size;
    return bytes;
  }

  /** Adds a segment after every indexed one. */
  addSegment(
    segment: Omit<SegmentEntry, "records" | "events" | "minTs" | "maxTs" | "maxSeverity">,
  ): SegmentEntry {
    const entry: SegmentEntry = {
      ...segment,
      records: [],
      events: 0,
      minTs: Infinity,
      maxTs: -Infinity,
      maxSeverity: 0,
    };
    this.segments.push(entry);
    return entry;
  }

  /** Adds a record at the end of `segment`; its seq must be above every indexed one. */
  addRecord(segment: SegmentEntry, record: Omit<IndexedRecord, "segment">): IndexedRecord {
    let flowId = record.flowId;
    let flow: FlowEntry | undefined;
    if (flowId !== null) {
      flow = this.#flows.get(flowId);
      if (flow === undefined) {
        flow = {
          flowId,
          refs: [],
          head: 0,
          events: 0,
          errors: 0,
          firstTs: Infinity,
          lastTs: -Infinity,
          rangeStale: false,
        };
        this.#flows.set(flowId, flow);
      }
      // One string per flow, however many records repeat it.
      flowId = flow.flowId;
    }
    // Built field by field so every ref has one shape, whatever object the caller passed.
    const ref: IndexedRecord = {
      segment,
      start: record.start,
      end: record.end,
      seq: record.seq,
      flowId,
      eventCount: record.eventCount,
      errorCount: record.errorCount,
      maxSeverity: record.maxSeverity,
      minTs: record.minTs,
      maxTs: record.maxTs,
    };
    segment.records.push(ref);
    segment.events += ref.eventCount;
    if (ref.minTs < segment.minTs) segment.minTs = ref.minTs;
    if (ref.maxTs > segment.maxTs) segment.maxTs = ref.maxTs;
    if (ref.maxSeverity > segment.maxSeverity) segment.maxSeverity = ref.maxSeverity;
    this.#records++;
    this.#events += ref.eventCount;
    if (flow !== undefined) {
      flow.refs.push(ref);
      flow.events += ref.eventCount;
      flow.errors += ref.errorCount;
      if (ref.minTs < flow.firstTs) flow.firstTs = ref.minTs;
      if (ref.maxTs > flow.lastTs) flow.lastTs = ref.maxTs;
    }
    return ref;
  }

  /** Removes a segment and its records from the index (the file is the caller's). */
  removeSegment(segment: SegmentEntry): RemovedCounts {
    const at = this.segments.indexOf(segment);
    if (at < 0) return { records: 0, events: 0, bytes: 0 };
    this.segments.splice(at, 1);
    // Retention removes the oldest segment, whose records head every flow's list;
    // any other removal (a reader seeing a file vanish) takes the filtering path.
    const affected = new Map<FlowEntry, boolean>();
    for (const ref of segment.records) {
      this.#records--;
      this.#events -= ref.eventCount;
      if (ref.flowId === null) continue;
      const flow = this.#flows.get(ref.flowId)!;
      flow.events -= ref.eventCount;
      flow.errors -= ref.errorCount;
      const atHead = flow.refs[flow.head] === ref && affected.get(flow) !== false;
      if (atHead) flow.head++;
      affected.set(flow, atHead);
    }
    for (const [flow, allAtHead] of affected) {
      if (flow.events === 0) {
        this.#flows.delete(flow.flowId);
        continue;
      }
      if (!allAtHead) {
        flow.refs = flow.refs.filter((ref, i) => i >= flow.head && ref.segment !== segment);
        flow.head = 0;
      } else if (flow.head >= COMPACT_AFTER && flow.head * 2 >= flow.refs.length) {
        // A store that is only written (never queried) would otherwise keep
        // every evicted ref of a long-lived flow: memory grew with all the
        // records ever stored (bench/overhead_gate.ts "sustained overload").
        this.#compact(flow);
      }
      flow.rangeStale = true;
    }
    return { records: segment.records.length, events: segment.events, bytes: segment.size };
  }

  /**
   * The live records of a flow, in sequence order (empty for an unknown
   * flow), or null for a string no record carries as its flow id
   * (`isFlowId`): events with such a `flow_id` are in records without a flow.
   */
  flowRecords(flowId: string): readonly IndexedRecord[] | null {
    const flow = this.#flows.get(flowId);
    if (flow === undefined) return isFlowId(flowId) ? [] : null;
    this.#compact(flow);
    return flow.refs;
  }

  /** Every flow, most recent `last_ts_ms` first (ties by flow id). */
  listFlows(): FlowInfo[] {
    const flows: FlowInfo[] = [];
    for (const flow of this.#flows.values()) {
      if (flow.rangeStale) this.#recomputeRange(flow);
      flows.push({
        flow_id: flow.flowId,
        first_ts_ms: flow.firstTs,
        last_ts_ms: flow.lastTs,
        event_count: flow.events,
        error_count: flow.errors,
      });
    }
    return flows.sort((a, b) =>
      b.last_ts_ms - a.last_ts_ms || (a.flow_id < b.flow_id ? -1 : a.flow_id > b.flow_id ? 1 : 0)
    );
  }

  #compact(flow: FlowEntry): void {
    if (flow.head === 0) return;
    flow.refs = flow.refs.slice(flow.head);
    flow.head = 0;
  }

  #recomputeRange(flow: FlowEntry): void {
    this.#compact(flow);
    let first = Infinity;
    let last = -Infinity;
    for (const ref of flow.refs) {
      if (ref.minTs < first) first = ref.minTs;
      if (ref.maxTs > last) last = ref.maxTs;
    }
    flow.firstTs = first;
    flow.lastTs = last;
    flow.rangeStale = false;
  }
}
