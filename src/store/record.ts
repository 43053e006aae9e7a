/**
 * The stores' shapes of a record (the events of one flow from one batch), one
 * name each, built on its {@linkcode RecordSummary}:
 *
 * - {@linkcode FramedRecord}: a record in bytes, as the batch encoder frames
 *   it and the scanner finds it (docs/internals.md "Record header");
 * - `IndexedRecord` (`store_index.ts`): what the segment store's index keeps
 *   of it, with its segment;
 * - {@linkcode RecordExtent}: where it is and how many events it holds, as
 *   the uplink learns it without reading it;
 * - {@linkcode DecodedRecord}: read back by position, its events decoded;
 * - {@linkcode SegmentRecord}: read by the export reader, with its payload;
 * - {@linkcode IdbRecord}: a row of the IndexedDB store.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import type { RecordSummary } from "../query/record.ts";

/** A framed record in some bytes (a batch being written, a segment being read): offsets are into them. */
export interface FramedRecord extends RecordSummary {
  /** The flow id, or `null` for a record without a flow. */
  flowId: string | null;
  /** Offset of the record magic. */
  start: number;
  /** Offset of the payload. */
  payloadStart: number;
  /** Offset just past the payload, and so the record. */
  end: number;
}

/** One record's payload and what its header and the index need. */
export interface PackedPayload {
  /** The flow id of its events, or `null` for events without one. */
  flowId: string | null;
  /** The msgpack payload, `[bindings, events]`. */
  payload: Uint8Array;
  /** Events in the payload. */
  eventCount: number;
  /** Events of severity `error` or above. */
  errorCount: number;
  /** Largest severity of its events. */
  maxSeverity: number;
  /** Smallest `ts_ms` of its events. */
  minTs: number;
  /** Largest `ts_ms` of its events. */
  maxTs: number;
}

/** Where a record lies in its segment file and how many events it holds. */
export type RecordExtent = Readonly<Pick<FramedRecord, "seq" | "eventCount" | "start" | "end">>;

/** A record read back by position (`SegmentStore.readAfter`), its events decoded. */
export interface DecodedRecord {
  /** Store-wide record sequence number. */
  seq: number;
  /** Bytes of the record on disk. */
  bytes: number;
  /** Its events, in write order. */
  events: LogEvent[];
}

/** A record as the export reader yields it: offsets are into its segment file. */
export interface SegmentRecord extends FramedRecord {
  /** File name of its segment. */
  segment: string;
  /** The msgpack payload (a view into the segment's bytes). */
  payload: Uint8Array;
}

/**
 * A record of the IndexedDB store, one row of its `records` object store
 * (layout in `idb_store.ts`). Its field names are the database's and stay as
 * they are: databases written before are read with them.
 */
export interface IdbRecord {
  /** Primary key, given by IndexedDB; increases with every record of the database. */
  id?: number;
  /** The flow id; absent for events without one. */
  flow?: string;
  /** Smallest `ts_ms` of its events. */
  t0: number;
  /** Largest `ts_ms` of its events. */
  t1: number;
  /** Largest severity of its events. */
  sev: number;
  /** Number of events. */
  n: number;
  /** When it was written (the store's clock): the age limit looks at this. */
  w: number;
  /** The msgpackr payload (`packEvents`). */
  data: Uint8Array;
}
