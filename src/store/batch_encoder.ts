/**
 * Turns one drained batch of events into framed records: one record per flow
 * (and one for the events without a flow), all in one buffer for one write.
 *
 * @module
 */
import { flowIdOf, type LogEvent } from "../event.ts";
import { packEvents } from "./payload_codec.ts";
import { SEVERITY } from "../level.ts";
import type { FramedRecord, PackedPayload } from "./record.ts";
import { isFlowId, RECORD_HEADER_SIZE, recordSize, writeRecord } from "./segment_format.ts";

/** The framed records of one batch. */
export interface EncodedBatch {
  /** Every record, back to back, ready for one write. */
  bytes: Uint8Array;
  /** Where each record is in `bytes`, in order. */
  records: FramedRecord[];
}

interface Group {
  flowId: string | null;
  events: LogEvent[];
  errorCount: number;
  maxSeverity: number;
  minTs: number;
  maxTs: number;
}

const utf8 = new TextEncoder();

/**
 * Groups `events` by flow and frames one record per group, with sequence
 * numbers from `firstSeq` up. Throws (and frames nothing) when an event
 * cannot be packed.
 *
 * @example Two flows give two records
 * ```ts
 * import { encodeBatch } from "./batch_encoder.ts";
 * import assert from "node:assert/strict";
 * const event = (flow_id: string) => ({
 *   ts_ms: 1, level: "info" as const, severity: 9, event: "e",
 *   producer: "p.1", seq: 1, fields: { flow_id },
 * });
 * const batch = encodeBatch([event("a"), event("b"), event("a")], 10);
 * assert.deepEqual(batch.records.map((r) => [r.flowId, r.seq, r.eventCount]), [["a", 10, 2], ["b", 11, 1]]);
 * ```
 */
export function encodeBatch(events: readonly LogEvent[], firstSeq: number): EncodedBatch {
  const groups = groupByFlow(events);
  const payloads: PackedPayload[] = new Array(groups.length);
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i]!;
    payloads[i] = {
      flowId: group.flowId,
      payload: packEvents(group.events),
      eventCount: group.events.length,
      errorCount: group.errorCount,
      maxSeverity: group.maxSeverity,
      minTs: group.minTs,
      maxTs: group.maxTs,
    };
  }
  return framePayloads(payloads, firstSeq);
}

/**
 * Frames one record per payload, with sequence numbers from `firstSeq` up:
 * {@linkcode encodeBatch} after packing, or the worker's payloads packed
 * straight from ring records (`src/store/payload_transcoder.ts`). Into
 * `reuse` when it is large enough (the batch's bytes are then a view of it).
 *
 * @example Frame a payload
 * ```ts
 * import { framePayloads } from "./batch_encoder.ts";
 * import { packEvents } from "./payload_codec.ts";
 * import assert from "node:assert/strict";
 * const event = { ts_ms: 1, level: "info" as const, severity: 9, event: "e", producer: "p.1", seq: 1, fields: {} };
 * const batch = framePayloads([{
 *   flowId: null, payload: packEvents([event]), eventCount: 1, errorCount: 0, maxSeverity: 9, minTs: 1, maxTs: 1,
 * }], 5);
 * assert.equal(batch.records[0]!.seq, 5);
 * ```
 */
export function framePayloads(
  payloads: readonly PackedPayload[],
  firstSeq: number,
  reuse?: Uint8Array,
): EncodedBatch {
  const flowIds: (Uint8Array | null)[] = new Array(payloads.length);
  let size = 0;
  for (let i = 0; i < payloads.length; i++) {
    const p = payloads[i]!;
    const flowId = p.flowId === null ? null : utf8.encode(p.flowId);
    flowIds[i] = flowId;
    size += recordSize(flowId === null ? 0 : flowId.length, p.payload.length);
  }
  const bytes = reuse !== undefined && reuse.length >= size
    ? reuse.subarray(0, size)
    : new Uint8Array(size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: FramedRecord[] = [];
  let at = 0;
  for (let i = 0; i < payloads.length; i++) {
    const p = payloads[i]!;
    const flowId = flowIds[i]!;
    // Fields in the scanner's order: one hidden class for every FramedRecord.
    const record: FramedRecord = {
      start: at,
      end: 0,
      payloadStart: at + RECORD_HEADER_SIZE + (flowId === null ? 0 : flowId.length),
      seq: firstSeq + i,
      flowId: p.flowId,
      eventCount: p.eventCount,
      errorCount: p.errorCount,
      maxSeverity: p.maxSeverity,
      minTs: p.minTs,
      maxTs: p.maxTs,
    };
    at = writeRecord(bytes, view, at, record, flowId, p.payload);
    record.end = at;
    records.push(record);
  }
  return { bytes, records };
}

/**
 * `a` then `b` as one batch, for one write.
 *
 * @example Join two batches
 * ```ts
 * import { concatBatches, encodeBatch } from "./batch_encoder.ts";
 * import assert from "node:assert/strict";
 * const event = { ts_ms: 1, level: "info" as const, severity: 9, event: "e", producer: "p.1", seq: 1, fields: {} };
 * const a = encodeBatch([event], 1);
 * const both = concatBatches(a, encodeBatch([event], 2));
 * assert.equal(both.records[1]!.start, a.bytes.length);
 * ```
 */
export function concatBatches(a: EncodedBatch, b: EncodedBatch): EncodedBatch {
  const bytes = new Uint8Array(a.bytes.length + b.bytes.length);
  bytes.set(a.bytes);
  bytes.set(b.bytes, a.bytes.length);
  const shift = a.bytes.length;
  return {
    bytes,
    records: [
      ...a.records,
      ...b.records.map((r) => ({
        ...r,
        start: r.start + shift,
        payloadStart: r.payloadStart + shift,
        end: r.end + shift,
      })),
    ],
  };
}

function groupByFlow(events: readonly LogEvent[]): Group[] {
  const groups: Group[] = [];
  const byFlow = new Map<string, Group>();
  let noFlow: Group | null = null;
  // Events of one flow tend to come in runs; remembering the last group saves a Map lookup per event.
  let lastKey: unknown = undefined;
  let last: Group | null = null;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const key: unknown = flowIdOf(event);
    let group: Group;
    if (key === lastKey && last !== null) {
      group = last;
    } else if (typeof key === "string") {
      let found = byFlow.get(key);
      if (found === undefined) {
        if (isFlowId(key)) {
          found = newGroup(key);
          groups.push(found);
        } else {
          found = noFlow ??= pushed(groups, newGroup(null));
        }
        byFlow.set(key, found);
      }
      group = found;
    } else {
      group = noFlow ??= pushed(groups, newGroup(null));
    }
    lastKey = key;
    last = group;
    group.events.push(event);
    const severity = event.severity;
    if (severity > group.maxSeverity) group.maxSeverity = severity > 255 ? 255 : severity | 0;
    if (severity >= SEVERITY.error) group.errorCount++;
    const ts = event.ts_ms;
    if (ts < group.minTs) group.minTs = ts;
    if (ts > group.maxTs) group.maxTs = ts;
  }
  return groups;
}

function newGroup(flowId: string | null): Group {
  return {
    flowId,
    events: [],
    errorCount: 0,
    maxSeverity: 0,
    minTs: Infinity,
    maxTs: -Infinity,
  };
}

function pushed(groups: Group[], group: Group): Group {
  groups.push(group);
  return group;
}
