/**
 * The persisted event store the worker writes to: append-only segment files
 * in one directory (docs/internals.md "Segment files"), opened under the store
 * lock (`lock.ts`), scanned into an in-memory index (`store_index.ts`),
 * written by `segment_writer.ts` with retention (`retention.ts`), read
 * through `segment_reader.ts`, queried by `src/query/search.ts` and read by
 * position (`positions.ts`).
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { readFlowLog, type RecordLoader, searchIndex } from "../query/search.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../query/types.ts";
import { type FlowPage, listFlowPage, type ListFlowsOptions } from "../query/flow_list.ts";
import {
  type NodeStatsAccumulator,
  type NodeStatsFilter,
  scanNodeStats,
} from "../query/node_stats.ts";
import { StoreReadError, StoreStateError, StoreWriteError } from "./errors.ts";
import type { StoreFs } from "./fs.ts";
import { lockStoreDir, type StoreLock } from "./lock.ts";
import { backlogAfter, type BacklogCounts, recordsAfter, recordsToRead } from "./positions.ts";
import type { DecodedRecord, PackedPayload, RecordExtent } from "./record.ts";
import { addDamage, emptyDamage, type ScanDamage, scanRecords } from "./record_scanner.ts";
import type { EvictionCounts } from "./retention.ts";
import { countGap, findGap, type GapCounts } from "./segment_gaps.ts";
import { parseSegmentFileName, segmentFileName, WRITER_ID_SIZE } from "./segment_format.ts";
import { readSegmentHead } from "./segment_head.ts";
import {
  type ResolvedSegmentStoreOptions,
  resolveSegmentStoreOptions,
  type SegmentStoreOptions,
} from "./segment_options.ts";
import { SegmentReader } from "./segment_reader.ts";
import { SegmentWriter } from "./segment_writer.ts";
import { type FlowInfo, type IndexedRecord, type SegmentEntry, StoreIndex } from "./store_index.ts";

/**
 * Damage found in the store's files, by this instance (at open and by
 * `refresh()` or reads); the gap counts are segments missing between
 * surviving ones (docs/internals.md "Gaps").
 */
export interface StoreDamage extends ScanDamage, GapCounts {
  /** Segment files whose header is damaged (their records are still read). */
  bad_file_header: number;
  /** Segment files whose header names another segment number: copies, ignored. */
  duplicate_segments: number;
  /** Segment files of another format version, ignored. */
  unsupported_segments: number;
  /** Indexed records found damaged when read for a query, skipped. */
  read_failures: number;
}

/**
 * What {@linkcode SegmentStore.stats} returns. A type alias rather than an
 * interface so it is assignable to `Record<string, unknown>`, as the worker's
 * `Store` interface takes it.
 */
export type StoreStats = {
  /** Indexed segment files. */
  segments: number;
  /** Bytes of the indexed segment files. */
  bytes: number;
  /** Records indexed. */
  records: number;
  /** Events in them. */
  events: number;
  /** Smallest `ts_ms` stored, or null when there is no event. */
  first_ts_ms: number | null;
  /** Largest `ts_ms` stored, or null when there is no event. */
  last_ts_ms: number | null;
  /** Damage found by this instance. */
  damage: StoreDamage;
  /** What retention removed since this instance opened the store. */
  evicted: EvictionCounts;
};

/**
 * An append-only event store in one directory, written by one process (the
 * logger's worker) and readable by any number of read-only instances.
 *
 * All I/O is synchronous. Damage in the files is skipped and counted, never
 * thrown; write failures are thrown as {@linkcode StoreWriteError}.
 *
 * @example Append events and read a flow back
 * ```ts
 * import { SegmentStore } from "./segment_store.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const store = SegmentStore.open(dir);
 * store.append([
 *   { ts_ms: 1, level: "info", severity: 9, event: "run_start", producer: "p.1", seq: 1, fields: { flow_id: "f1" } },
 *   { ts_ms: 2, level: "error", severity: 17, event: "run_end", producer: "p.1", seq: 2, fields: { flow_id: "f1" } },
 * ]);
 * assert.equal(store.getFlowLog("f1").summary.error_count, 1);
 * assert.equal(store.query({ level: "error" }).events.length, 1);
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SegmentStore {
  readonly #dir: string;
  readonly #options: ResolvedSegmentStoreOptions;
  readonly #fs: StoreFs;
  readonly #index = new StoreIndex();
  readonly #damage: StoreDamage = {
    ...emptyDamage(),
    bad_file_header: 0,
    duplicate_segments: 0,
    unsupported_segments: 0,
    read_failures: 0,
    gaps: 0,
    gap_records: 0,
    gap_events: 0,
    gap_bytes: 0,
  };
  readonly #reader: SegmentReader;
  readonly #load: RecordLoader<IndexedRecord>;
  readonly #writerId = crypto.getRandomValues(new Uint8Array(WRITER_ID_SIZE));
  /** The writer, once a writable store has scanned its directory; null on a reader. */
  #writer: SegmentWriter | null = null;
  /** Highest segment file number seen, indexed or not (the writer begins new segments above it). */
  #maxFileNumber = 0;
  /** Sequence number of the last record scanned (the writer continues from it). */
  #lastSeq = 0;
  #lock: StoreLock | null = null;
  #openedMs = NaN;
  #closed = false;

  private constructor(dir: string, options: ResolvedSegmentStoreOptions) {
    this.#dir = dir;
    this.#options = options;
    this.#fs = options.fs;
    this.#reader = new SegmentReader(options.fs, this.#index, this.#damage);
    this.#load = (records) => this.#reader.load(records);
  }

  /**
   * Opens (creating if needed) the store in `dir`. A writer takes the
   * directory's lock, reads every segment, begins a new segment when the
   * last one ends in a torn tail, and applies retention. A second writer on
   * the same directory gets a {@linkcode StoreLockedError}.
   *
   * Throws a `TypeError`/`RangeError` for invalid options.
   *
   * @example Open a reader next to a writer
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const writer = SegmentStore.open(dir, { segmentBytes: 1 << 20 });
   * const reader = SegmentStore.open(dir, { readOnly: true });
   * writer.append([{ ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: {} }]);
   * reader.refresh();
   * assert.equal(reader.stats().events, 1);
   * reader.close();
   * writer.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static open(dir: string, options: SegmentStoreOptions = {}): SegmentStore {
    const store = new SegmentStore(dir, resolveSegmentStoreOptions(options));
    try {
      store.#open();
    } catch (error) {
      try {
        store.close();
      } catch {
        // The open failure is the one to report; a failure to close after it would hide it.
      }
      throw error;
    }
    return store;
  }

  /** The store directory. */
  get dir(): string {
    return this.#dir;
  }

  /** True when opened with `{ readOnly: true }`. */
  get readOnly(): boolean {
    return this.#options.readOnly;
  }

  /**
   * Stores a batch of events: one record per flow (plus one for events
   * without a flow), written with one write call. Rotates to a new segment
   * by size and applies retention first. Throws a {@linkcode StoreWriteError}
   * when the batch cannot be encoded or written (then none of it is stored),
   * and a {@linkcode StoreStateError} on a closed or read-only store.
   *
   * @example Append a batch
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * store.append([{ ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: { flow_id: "f" } }]);
   * assert.equal(store.stats().records, 1);
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  append(events: readonly LogEvent[]): void {
    this.#assertWritable("append");
    if (events.length === 0) return;
    this.#writer!.append(events);
  }

  /**
   * Appends records whose payloads are packed already, one record per
   * payload, in one write: the worker's path when it packs ring records
   * straight to payloads (`src/store/payload_transcoder.ts`). Each payload
   * must be what `packEvents` would write for its events (docs/internals.md
   * "Payload"). Throws as {@linkcode SegmentStore.append} does.
   */
  appendPayloads(payloads: readonly PackedPayload[]): void {
    this.#assertWritable("append");
    if (payloads.length === 0) return;
    this.#writer!.appendPayloads(payloads);
  }

  /**
   * Flushes what was written since the last call to stable storage: the
   * segment files, and the directory after segments were created or removed.
   * Does nothing on a read-only store.
   *
   * @example Sync after a batch
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * store.append([{ ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: {} }]);
   * store.sync();
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  sync(): void {
    this.#assertOpen();
    this.#writer?.sync();
  }

  /**
   * On a read-only store, picks up what the writer did since: appended
   * records, new segments, segments removed by retention. Does nothing on
   * the writer, whose index is always current.
   *
   * @example Follow a writer
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const writer = SegmentStore.open(dir);
   * const reader = SegmentStore.open(dir, { readOnly: true });
   * writer.append([{ ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: {} }]);
   * assert.equal(reader.stats().events, 0);
   * reader.refresh();
   * assert.equal(reader.stats().events, 1);
   * reader.close();
   * writer.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  refresh(): void {
    this.#assertOpen();
    if (!this.#options.readOnly) return;
    const numbers = this.#listSegmentNumbers();
    const present = new Set(numbers);
    for (const segment of [...this.#index.segments]) {
      if (!present.has(segment.number)) this.#reader.forget(segment);
    }
    const last = this.#index.segments.at(-1);
    const newer = numbers.filter((n) => n > this.#maxFileNumber);
    if (last !== undefined) this.#scanTail(last, newer.length === 0);
    for (let i = 0; i < newer.length; i++) {
      this.#loadSegment(newer[i]!, i === newer.length - 1, present);
    }
  }

  /**
   * Returns one page of events matching `filter`, in {@linkcode compareEvents}
   * order with ties broken by storage position, as documented on
   * {@linkcode QueryFilter}. Pass the page's `cursor` back (with the same
   * criteria) for the next page; paging stays consistent while events
   * arrive: a page continues strictly after the previous one's last event.
   * Throws a `TypeError`/`RangeError` for an invalid filter.
   *
   * @example Page through errors
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * store.append([1, 2, 3].map((n) => ({
   *   ts_ms: n, level: "error" as const, severity: 17, event: "failed", producer: "p.1", seq: n, fields: {},
   * })));
   * const first = store.query({ level: "error", limit: 2 });
   * assert.equal(first.events.length, 2);
   * const second = store.query({ level: "error", limit: 2, cursor: first.cursor! });
   * assert.deepEqual(second.events.map((e) => e.seq), [3]);
   * assert.equal(second.cursor, null);
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  query(filter: QueryFilter = {}): QueryPage {
    this.#assertOpen();
    return searchIndex(this.#index, this.#load, filter);
  }

  /**
   * Returns everything recorded for one flow: its events in order, the span
   * tree and a summary (see `buildFlowLog()` in `query/flow_log.ts`). Reads only
   * that flow's records. An unknown flow gives an empty flow log (no events,
   * no spans, `first_ts_ms`/`last_ts_ms` null, counts 0), not an error.
   *
   * @example An unknown flow
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * assert.deepEqual(store.getFlowLog("nope").events, []);
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  getFlowLog(flowId: string): FlowLog {
    this.#assertOpen();
    if (typeof flowId !== "string") {
      throw new TypeError(`Flow id must be a string, got ${typeof flowId}`);
    }
    return readFlowLog(this.#index, this.#load, flowId);
  }

  /**
   * Lists the stored flows, most recent last event first, from the index
   * (no event is read).
   *
   * @example List flows
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * store.append([
   *   { ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: { flow_id: "old" } },
   *   { ts_ms: 2, level: "info", severity: 9, event: "e", producer: "p.1", seq: 2, fields: { flow_id: "new" } },
   * ]);
   * assert.deepEqual(store.listFlows().map((f) => f.flow_id), ["new", "old"]);
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  listFlows(): FlowInfo[] {
    this.#assertOpen();
    return this.#index.listFlows();
  }

  /**
   * Per-node statistics over the records that `filter` may match, read a
   * window at a time (see `scanNodeStats()` in `query/node_stats.ts`): memory
   * is bounded by the number of nodes, not of events. Throws a
   * `TypeError`/`RangeError` for an invalid filter.
   *
   * @example One node, two executions
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * store.append([10, 30].map((duration_ms, i) => ({
   *   ts_ms: i, level: "info" as const, severity: 9, event: "node_exit", producer: "p.1", seq: i,
   *   fields: { node: "complete", duration_ms },
   * })));
   * const [row] = store.nodeStats({ node: "comp*" }).rows();
   * assert.deepEqual([row?.count, row?.total_ms, row?.max], [2, 40, 30]);
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  nodeStats(filter: NodeStatsFilter = {}): NodeStatsAccumulator {
    this.#assertOpen();
    return scanNodeStats(this.#index, this.#load, filter);
  }

  /**
   * One page of the stored flows, the most recent last event first: totals
   * and order from the index, and only the page's flows read (for their run
   * ids, error count and status); see `listFlowPage()` in
   * `query/flow_list.ts` for the snapshot its cursor keeps. Throws a
   * `TypeError`/`RangeError` for invalid options or a foreign cursor.
   *
   * @example Two flows, a page of one
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * store.append([
   *   { ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: { flow_id: "old" } },
   *   { ts_ms: 2, level: "info", severity: 9, event: "e", producer: "p.1", seq: 2, fields: { flow_id: "new" } },
   * ]);
   * const page = store.listFlowPage({ limit: 1 });
   * assert.deepEqual(page.flows.map((f) => f.flow_id), ["new"]);
   * const next = store.listFlowPage({ limit: 1, cursor: page.cursor! });
   * assert.deepEqual(next.flows.map((f) => f.flow_id), ["old"]);
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  listFlowPage(options?: ListFlowsOptions): FlowPage {
    this.#assertOpen();
    const index = this.#index;
    const load = this.#load;
    return listFlowPage(indexedRecords(index), (flowIds, snapshot) => {
      const records: IndexedRecord[] = [];
      const events = new Map<string, LogEvent[]>();
      for (const flowId of flowIds) {
        events.set(flowId, []);
        for (const r of index.flowRecords(flowId) ?? []) if (r.seq <= snapshot) records.push(r);
      }
      // In file order, so neighbouring records of the page's flows are read together.
      records.sort((a, b) => a.seq - b.seq);
      for (const [record, recordEvents] of load(records)) {
        const list = events.get(record.flowId!)!;
        for (let i = 0; i < recordEvents.length; i++) list.push(recordEvents[i]!);
      }
      return events;
    }, options);
  }

  /**
   * Sequence number of the newest record (0 for an empty store). Record
   * numbers increase in write order across segments and restarts, so a
   * reader keeps its position as one number.
   *
   * @example Positions grow with each record
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * assert.equal(store.lastSeq, 0);
   * store.append([{ ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: {} }]);
   * assert.equal(store.lastSeq, 1);
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  get lastSeq(): number {
    return this.#writer?.lastSeq ?? this.#lastSeq;
  }

  /**
   * Reads the records after position `afterSeq`, oldest first, until
   * `maxEvents` events (always at least one record when there is one). Records
   * found damaged are skipped and counted as `read_failures`, never returned.
   *
   * @example Read in order from a position
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * for (const seq of [1, 2, 3]) {
   *   store.append([{ ts_ms: seq, level: "info", severity: 9, event: "e", producer: "p.1", seq, fields: {} }]);
   * }
   * const records = store.readAfter(1, 100);
   * assert.deepEqual(records.map((r) => r.events[0]!.seq), [2, 3]);
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  readAfter(afterSeq: number, maxEvents: number): DecodedRecord[] {
    this.#assertOpen();
    const refs = recordsToRead(this.#index, afterSeq, maxEvents);
    return this.#reader.load(refs).map(([ref, events]) => ({
      seq: ref.seq,
      bytes: ref.end - ref.start,
      events,
    }));
  }

  /**
   * Header facts of up to `maxRecords` records after position `afterSeq`,
   * oldest first, from the index (nothing is read).
   *
   * @example List record sizes
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * store.append([{ ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: {} }]);
   * assert.equal(store.recordsAfter(0, 10)[0]!.eventCount, 1);
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  recordsAfter(afterSeq: number, maxRecords: number): RecordExtent[] {
    this.#assertOpen();
    return recordsAfter(this.#index, afterSeq, maxRecords);
  }

  /**
   * Counts the records, events and bytes stored after position `afterSeq`,
   * from the index (nothing is read).
   *
   * @example Count what follows a position
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * store.append([{ ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: {} }]);
   * assert.equal(store.backlog(0).events, 1);
   * assert.equal(store.backlog(store.lastSeq).events, 0);
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  backlog(afterSeq: number): BacklogCounts {
    this.#assertOpen();
    return backlogAfter(this.#index, afterSeq);
  }

  /**
   * Returns the store's size, damage found and evictions done by this instance.
   *
   * @example A new store is empty
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * assert.equal(store.stats().events, 0);
   * assert.equal(store.stats().first_ts_ms, null);
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  stats(): StoreStats {
    this.#assertOpen();
    let first = Infinity;
    let last = -Infinity;
    for (const segment of this.#index.segments) {
      if (segment.minTs < first) first = segment.minTs;
      if (segment.maxTs > last) last = segment.maxTs;
    }
    return {
      segments: this.#index.segments.length,
      bytes: this.#index.bytes,
      records: this.#index.records,
      events: this.#index.events,
      first_ts_ms: first <= last ? first : null,
      last_ts_ms: first <= last ? last : null,
      damage: { ...this.#damage },
      evicted: { ...(this.#writer?.evicted ?? NO_EVICTIONS) },
    };
  }

  /**
   * Closes every file and releases the lock. Calling it again does nothing.
   *
   * @example Close twice
   * ```ts
   * import { SegmentStore } from "./segment_store.ts";
   * const dir = await Deno.makeTempDir();
   * const store = SegmentStore.open(dir);
   * store.close();
   * store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const errors: unknown[] = [];
    for (const segment of this.#index.segments) {
      try {
        segment.file?.close();
      } catch (error) {
        errors.push(error);
      }
      segment.file = null;
    }
    try {
      this.#lock?.release();
    } catch (error) {
      errors.push(error);
    }
    this.#lock = null;
    if (errors.length > 0) {
      throw new StoreWriteError(`Could not close every file of ${this.#dir}`, errors[0]);
    }
  }

  /** Closes the store, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  // ---- opening and scanning ----

  #open(): void {
    const { readOnly } = this.#options;
    this.#openedMs = this.#options.clock();
    if (!readOnly) {
      this.#fs.mkdir(this.#dir);
      if (!this.#options.lockHeld) {
        const openedMs = this.#openedMs;
        this.#lock = lockStoreDir(this.#dir, {
          fs: this.#fs,
          writerId: this.#writerId,
          clock: () => openedMs,
        });
      }
    }
    const numbers = this.#listSegmentNumbers();
    const listed = new Set(numbers);
    for (let i = 0; i < numbers.length; i++) {
      this.#loadSegment(numbers[i]!, i === numbers.length - 1, listed);
    }
    if (readOnly) return;
    this.#writer = new SegmentWriter({
      dir: this.#dir,
      options: this.#options,
      index: this.#index,
      reader: this.#reader,
      writerId: this.#writerId,
      lastSeq: this.#lastSeq,
      maxFileNumber: this.#maxFileNumber,
      openedMs: this.#openedMs,
    });
    this.#writer.resume(this.#options.appendToLast);
  }

  /** Segment numbers of the directory's segment files, ascending. */
  #listSegmentNumbers(): number[] {
    let names: string[];
    try {
      names = this.#fs.list(this.#dir);
    } catch (error) {
      // A reader may start before the writer has created the directory.
      if (this.#options.readOnly && this.#fs.isNotFound(error)) return [];
      throw error;
    }
    const numbers: number[] = [];
    for (const name of names) {
      const number = parseSegmentFileName(name);
      if (number !== null) numbers.push(number);
    }
    return numbers.sort((a, b) => a - b);
  }

  /**
   * Reads and indexes a whole segment file; `last` says whether it is the
   * newest one, `listed` holds the numbers of the listing being walked.
   */
  #loadSegment(number: number, last: boolean, listed: ReadonlySet<number>): void {
    const path = this.#fs.join(this.#dir, segmentFileName(number));
    let bytes: Uint8Array;
    try {
      bytes = this.#fs.readFile(path);
    } catch (error) {
      // Retention of a live writer removed it between listing and reading.
      if (this.#options.readOnly && this.#fs.isNotFound(error)) return;
      throw error;
    }
    const head = readSegmentHead(bytes, number, last);
    if (head.kind === "unfinished") {
      // The newest segment has not got its header yet: a reader looks again at
      // the next refresh(); a writer removes what a crash during creation left.
      if (this.#options.readOnly) return;
      this.#damage.bad_file_header++;
      this.#damage.bytes += bytes.length;
      this.#maxFileNumber = Math.max(this.#maxFileNumber, number);
      try {
        this.#fs.remove(path);
      } catch (error) {
        throw new StoreWriteError(`Could not remove the unfinished segment ${path}`, error);
      }
      return;
    }
    if (number > this.#maxFileNumber) this.#maxFileNumber = number;
    if (head.kind === "unsupported") {
      this.#damage.unsupported_segments++;
      return;
    }
    if (head.kind === "copy") {
      this.#damage.duplicate_segments++;
      return;
    }
    if (head.kind === "damaged") {
      this.#damage.bad_file_header++;
      this.#damage.bytes += head.start;
    } else {
      const after = this.#index.segments.at(-1)?.number ?? null;
      const gap = findGap(number, head.header.link, after, listed, this.#lastSeq);
      if (gap !== null) countGap(this.#damage, gap);
    }
    const header = head.kind === "intact" ? head.header : null;
    const result = scanRecords(bytes, {
      start: head.start,
      afterSeq: this.#lastSeq,
      countTail: !(last && this.#options.readOnly),
    });
    addDamage(this.#damage, result.damage);
    const segment = this.#index.addSegment({
      number,
      path,
      size: bytes.length,
      scannedEnd: result.validEnd,
      createdMs: header?.createdMs ?? NaN,
      appendable: header !== null,
      file: null,
    });
    for (const record of result.records) this.#index.addRecord(segment, record);
    this.#lastSeq = result.lastSeq;
  }

  /** Reader: scans what was appended to a segment since it was last scanned. */
  #scanTail(segment: SegmentEntry, last: boolean): void {
    const file = this.#reader.fileOf(segment);
    if (file === null) return;
    let size: number;
    let bytes: Uint8Array;
    try {
      size = file.size();
      if (size <= segment.scannedEnd) return;
      bytes = new Uint8Array(size - segment.scannedEnd);
      bytes = bytes.subarray(0, file.read(segment.scannedEnd, bytes));
    } catch (error) {
      throw new StoreReadError(`Could not read ${segment.path}`, error);
    }
    const result = scanRecords(bytes, { afterSeq: this.#lastSeq, countTail: !last });
    addDamage(this.#damage, result.damage);
    const base = segment.scannedEnd;
    for (const record of result.records) {
      this.#index.addRecord(segment, {
        ...record,
        start: base + record.start,
        end: base + record.end,
      });
    }
    this.#lastSeq = result.lastSeq;
    segment.size = size;
    segment.scannedEnd = last ? base + result.validEnd : base + bytes.length;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new StoreStateError(
        `Store ${this.#dir} is closed: open it again with SegmentStore.open()`,
      );
    }
  }

  #assertWritable(operation: string): void {
    this.#assertOpen();
    if (this.#options.readOnly) {
      throw new StoreStateError(
        `Cannot ${operation} to store ${this.#dir} opened with { readOnly: true }: open it without readOnly to write`,
      );
    }
  }
}

/** The evictions of a store that does not write. */
const NO_EVICTIONS: EvictionCounts = { segments: 0, records: 0, events: 0, bytes: 0 };

/** Every indexed record, in sequence order (segments are in number order). */
function* indexedRecords(index: StoreIndex): Generator<IndexedRecord> {
  for (const segment of index.segments) yield* segment.records;
}
