/**
 * The record: the events of one flow from one drained batch, the unit every
 * store writes and reads (a framed record in a segment file,
 * docs/internals.md "Record header"; a row in IndexedDB, `IdbRecord`). Its
 * summary is what a store's index keeps of it and what a query prunes by,
 * without reading its events. The store's own shapes of a record build on it
 * in `src/store/record.ts`.
 *
 * @module
 */

/** What a record's header says of its events: the facts an index keeps and a query prunes by. */
export interface RecordSummary {
  /** Store-wide record sequence number, increasing in write order. */
  seq: number;
  /** Events in the record. */
  eventCount: number;
  /** Events with `severity` ≥ 17. */
  errorCount: number;
  /** Highest severity, 0–255. */
  maxSeverity: number;
  /** Smallest `ts_ms`. */
  minTs: number;
  /** Largest `ts_ms`. */
  maxTs: number;
}
