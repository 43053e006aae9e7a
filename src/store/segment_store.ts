/**
 * The persisted event store the worker writes to: append-only segment files
 * in one directory (docs/internals.md "Segment files"), an in-memory index built
 * from record headers, retention by size and age, and the queries.
 *
 * @module
 */
import { INTERNAL_EVENTS, type LogEvent } from "../event.ts";
import { compileFilter } from "../query/filter.ts";
import { comparePosition, pageOf, TopMatches } from "../query/top_matches.ts";
import { buildFlowLog, compareEvents } from "../query/flow_log.ts";
import { SEVERITY } from "../level.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../query/types.ts";
import { denoFs } from "./_fs_deno.ts";
import { encodeBatch, type EncodedBatch } from "./batch_encoder.ts";
import { StoreLockedError, StoreReadError, StoreStateError, StoreWriteError } from "./errors.ts";
import type { StoreFile, StoreFs } from "./fs.ts";
import { unpackEvents } from "./payload_codec.ts";
import {
  addDamage,
  emptyDamage,
  readRecordAt,
  type ScanDamage,
  scanRecords,
} from "./record_scanner.ts";
import { countGap, findGap, type GapCounts } from "./segment_gaps.ts";
import {
  declaredHeaderSize,
  decodeFileHeader,
  encodeFileHeader,
  FILE_HEADER_SIZE,
  isFlowId,
  isReadableVersion,
  LOCK_FILE_NAME,
  parseSegmentFileName,
  segmentFileName,
  WRITER_ID_SIZE,
} from "./segment_format.ts";
import { type FlowInfo, type RecordRef, type SegmentEntry, StoreIndex } from "./store_index.ts";

export type { FlowInfo } from "./store_index.ts";

/** Options of {@linkcode SegmentStore.open}. */
export interface SegmentStoreOptions {
  /**
   * Size from which the current segment is sealed and a new one started
   * (a batch is never split, so a segment can exceed it by one batch).
   * @default {8388608}
   */
  segmentBytes?: number;
  /**
   * Total size of the segments above which the oldest are removed.
   * @default {536870912}
   */
  maxBytes?: number;
  /**
   * Age after which data is removed, measured with `clock` (not with the
   * events' own timestamps, which a producer's clock can skew): a sealed
   * segment goes once everything in it was written longer ago than this, and
   * the current segment is sealed once it is this old, so nothing outlives
   * about twice this age.
   * @default {604800000}
   */
  maxAgeMs?: number;
  /**
   * Open without the lock, never writing: for a reader next to a live
   * writer. Call {@linkcode SegmentStore.refresh} to see what it appended since.
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * The caller already holds the directory's lock for this process (taken
   * with {@linkcode lockStoreDir}): open as the writer without taking it.
   * The caller answers for there being one writer at a time.
   * @default {false}
   */
  lockHeld?: boolean;
  /**
   * Append to the newest segment, unless it ends in damage (a torn tail):
   * then that segment is left as it is, so the damage stays counted, and a
   * new one is begun at once (docs/internals.md "Torn tails"). With `false`
   * the newest segment is left exactly as it is and the first append begins
   * a new one: for a writer that replaces one of the same process that may
   * still be writing (docs/internals.md "Worker restart").
   * @default {true}
   */
  appendToLast?: boolean;
  /**
   * The time, in epoch milliseconds: stamps segments and `log.evicted`
   * events, and drives retention by age.
   * @default {Date.now}
   */
  clock?: () => number;
  /**
   * File system to use.
   * @default {denoFs}
   */
  fs?: StoreFs;
  /**
   * Called with the records of each segment retention removes, before they
   * go (the uplink counts the unsent ones among them).
   */
  onEvict?: (records: readonly StoredRecordInfo[]) => void;
}

/** Header facts of one stored record, as {@linkcode SegmentStore.readAfter} and `onEvict` give them. */
export interface StoredRecordInfo {
  /** Store-wide record sequence number, increasing in write order. */
  readonly seq: number;
  /** Events in the record. */
  readonly eventCount: number;
  /** Offset of the record in its segment file. */
  readonly start: number;
  /** Offset just past the record. */
  readonly end: number;
}

/** One record read back by {@linkcode SegmentStore.readAfter}. */
export interface StoredRecord {
  /** Store-wide record sequence number. */
  seq: number;
  /** Bytes of the record on disk. */
  bytes: number;
  /** Its events, in write order. */
  events: LogEvent[];
}

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

/** What retention removed since the store was opened. */
export interface EvictionCounts {
  /** Segment files removed. */
  segments: number;
  /** Records in them. */
  records: number;
  /** Events in them. */
  events: number;
  /** Their bytes. */
  bytes: number;
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

interface ResolvedOptions {
  segmentBytes: number;
  maxBytes: number;
  maxAgeMs: number;
  readOnly: boolean;
  lockHeld: boolean;
  appendToLast: boolean;
  clock: () => number;
  fs: StoreFs;
  onEvict: ((records: readonly StoredRecordInfo[]) => void) | null;
}

/** Producer id of the events the store writes itself. */
const STORE_PRODUCER = "store";
/** Most read handles kept open at once. */
const MAX_READ_FILES = 32;
/**
 * Gap up to which neighbouring records are fetched with one read: a page, so
 * little data of other records is read while runs of records cost one call.
 */
const READ_GAP_BYTES = 4096;
/** Largest single read when fetching records. */
const READ_SPAN_BYTES = 8 * 1024 * 1024;
/**
 * Records fetched by the first step of a query; each step doubles it up to
 * the maximum, so a small page reads little and a large one few times.
 */
const QUERY_FIRST_STEP = 4;
const QUERY_MAX_STEP = 64;

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
  readonly #options: ResolvedOptions;
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
  readonly #evicted: EvictionCounts = { segments: 0, records: 0, events: 0, bytes: 0 };
  readonly #writerId = crypto.getRandomValues(new Uint8Array(WRITER_ID_SIZE));
  /** Highest segment file number seen, indexed or not: new segments go above it. */
  #maxFileNumber = 0;
  #lastSeq = 0;
  /** Sequence number of the store's own events. */
  #internalSeq = 0;
  #lock: StoreLock | null = null;
  /** The segment appended to, or null until the next append creates one. */
  #active: SegmentEntry | null = null;
  /** Time of this instance's last write to each segment it wrote to. */
  readonly #lastWriteMs = new WeakMap<SegmentEntry, number>();
  #openedMs = NaN;
  /** Segments with a cached read handle, least recently used first. */
  readonly #readFiles = new Set<SegmentEntry>();
  /** Segments written since the last sync(). */
  readonly #unsynced = new Set<SegmentEntry>();
  #dirUnsynced = false;
  #closed = false;

  private constructor(dir: string, options: ResolvedOptions) {
    this.#dir = dir;
    this.#options = options;
    this.#fs = options.fs;
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
    const store = new SegmentStore(dir, resolveOptions(options));
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
    let batch: EncodedBatch;
    try {
      batch = encodeBatch(events, this.#lastSeq + 1);
    } catch (error) {
      throw new StoreWriteError(
        `Could not encode a batch of ${events.length} events for ${this.#dir}; ` +
          "event fields must be plain data (no symbols or cycles)",
        error,
      );
    }
    this.#commit(batch, this.#options.clock());
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
    if (this.#options.readOnly) return;
    try {
      for (const segment of this.#unsynced) {
        segment.file?.sync();
        // A sealed segment's write handle is no longer needed; reads reopen it through the cache.
        if (segment !== this.#active) this.#closeFile(segment);
      }
      this.#unsynced.clear();
      if (this.#dirUnsynced) {
        this.#fs.syncDir(this.#dir);
        this.#dirUnsynced = false;
      }
    } catch (error) {
      throw new StoreWriteError(`Could not sync ${this.#dir}`, error);
    }
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
      if (!present.has(segment.number)) this.#forget(segment);
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
    const compiled = compileFilter(filter);
    const { sinceMs, untilMs, minSeverity, after, limit } = compiled;
    const afterTs = after === null ? -Infinity : after.ts_ms;
    const skip = (r: { minTs: number; maxTs: number; maxSeverity: number }) =>
      r.maxTs < sinceMs || r.minTs >= untilMs || r.maxSeverity < minSeverity || r.maxTs < afterTs;
    // Record lists to search, each with a lower bound on its events' timestamps.
    const sources: { minTs: number; records: readonly RecordRef[] }[] = [];
    if (compiled.flowId !== undefined && isFlowId(compiled.flowId)) {
      sources.push({ minTs: -Infinity, records: this.#index.flowRecords(compiled.flowId) });
    } else {
      for (const segment of this.#index.segments) {
        if (!skip(segment)) sources.push(segment);
      }
      sources.sort((a, b) => a.minTs - b.minTs);
    }
    const top = new TopMatches(limit + 1);
    for (const source of sources) {
      if (top.bound < source.minTs) break;
      const candidates = source.records.filter((r) => !skip(r));
      // Mostly sorted already (records are written in time order), which TimSort handles in linear time.
      candidates.sort((a, b) => a.minTs - b.minTs || a.seq - b.seq);
      let step = QUERY_FIRST_STEP;
      for (
        let from = 0;
        from < candidates.length && candidates[from]!.minTs <= top.bound;
        from += step, step = Math.min(2 * step, QUERY_MAX_STEP)
      ) {
        const chunk = candidates.slice(from, from + step).sort((a, b) => a.seq - b.seq);
        for (const [ref, events] of this.#load(chunk)) {
          if (ref.minTs > top.bound) continue;
          for (let i = 0; i < events.length; i++) {
            const event = events[i]!;
            if (!compiled.matches(event)) continue;
            const match = { event, record: ref.seq, index: i };
            if (after !== null && comparePosition(match, after) <= 0) continue;
            top.offer(match);
          }
        }
      }
    }
    return pageOf(top, limit, compiled.fingerprint);
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
    const events: LogEvent[] = [];
    for (const [, recordEvents] of this.#load(this.#index.flowRecords(flowId))) {
      for (let i = 0; i < recordEvents.length; i++) events.push(recordEvents[i]!);
    }
    if (!isSorted(events)) events.sort(compareEvents);
    return buildFlowLog(flowId, events);
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
    return this.#lastSeq;
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
  readAfter(afterSeq: number, maxEvents: number): StoredRecord[] {
    this.#assertOpen();
    const refs: RecordRef[] = [];
    let events = 0;
    outer: for (const segment of this.#index.segments) {
      const records = segment.records;
      if (records.length === 0 || records.at(-1)!.seq <= afterSeq) continue;
      for (let i = firstAfter(records, afterSeq); i < records.length; i++) {
        const ref = records[i]!;
        if (refs.length > 0 && events + ref.eventCount > maxEvents) break outer;
        refs.push(ref);
        events += ref.eventCount;
      }
    }
    return this.#load(refs).map(([ref, loaded]) => ({
      seq: ref.seq,
      bytes: ref.end - ref.start,
      events: loaded,
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
  recordsAfter(afterSeq: number, maxRecords: number): StoredRecordInfo[] {
    this.#assertOpen();
    const out: StoredRecordInfo[] = [];
    for (const segment of this.#index.segments) {
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
    const counts = { records: 0, events: 0, bytes: 0 };
    for (const segment of this.#index.segments) {
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
      evicted: { ...this.#evicted },
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
    this.#active = null;
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
    const last = this.#options.appendToLast ? this.#index.segments.at(-1) : undefined;
    if (last !== undefined && last.scannedEnd < last.size) {
      // Cutting the torn tail would erase the only trace of the loss; sealed
      // behind a new segment it is counted by every reader from now on.
      this.#beginAfterTornTail();
    } else if (
      last !== undefined && last.appendable && last.size < this.#options.segmentBytes
    ) {
      try {
        last.file = this.#fs.open(last.path, "append");
      } catch (error) {
        throw new StoreWriteError(`Could not open ${last.path} to append`, error);
      }
      this.#active = last;
    }
    this.#commit(null, this.#openedMs);
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
    if (last && bytes.length < declaredHeaderSize(bytes)) {
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
    const header = decodeFileHeader(bytes);
    let start: number;
    if (header === null) {
      start = Math.min(bytes.length, declaredHeaderSize(bytes));
      this.#damage.bad_file_header++;
      this.#damage.bytes += start;
    } else if (!isReadableVersion(header.version)) {
      this.#damage.unsupported_segments++;
      return;
    } else if (header.segment !== number) {
      this.#damage.duplicate_segments++;
      return;
    } else {
      start = header.size;
      const after = this.#index.segments.at(-1)?.number ?? null;
      const gap = findGap(number, header.link, after, listed, this.#lastSeq);
      if (gap !== null) countGap(this.#damage, gap);
    }
    const result = scanRecords(bytes, {
      start,
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
    const file = this.#readFile(segment);
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

  /** Reader: drops a segment whose file is gone (removed by the writer's retention). */
  #forget(segment: SegmentEntry): void {
    try {
      this.#closeFile(segment);
    } finally {
      this.#index.removeSegment(segment);
    }
  }

  // ---- writing ----

  /** Rotates and applies retention as needed, then writes `batch` and any `log.evicted` event in one write. */
  #commit(batch: EncodedBatch | null, now: number): void {
    const incoming = batch === null ? 0 : batch.bytes.length;
    const active = this.#active;
    if (
      active !== null && active.records.length > 0 &&
      (active.size + incoming > this.#options.segmentBytes ||
        active.createdMs < now - this.#options.maxAgeMs)
    ) {
      this.#active = null;
    }
    const evicted = this.#applyRetention(now, incoming);
    let write = batch;
    if (evicted !== null) {
      const seq = this.#lastSeq + 1 + (batch?.records.length ?? 0);
      const notice = encodeBatch([this.#evictionEvent(evicted, now)], seq);
      write = batch === null ? notice : concatBatches(batch, notice);
    }
    if (write !== null) this.#write(write, now);
  }

  #write(batch: EncodedBatch, now: number): void {
    const segment = this.#active ?? this.#createSegment(now);
    const file = segment.file!;
    const base = segment.size;
    try {
      file.write(batch.bytes);
    } catch (error) {
      this.#lastSeq += batch.records.length;
      this.#lastWriteMs.set(segment, now);
      try {
        file.truncate(base);
      } catch {
        // The segment may now end in a partial record: never append after it again.
        segment.appendable = false;
        this.#active = null;
        segment.size = base + batch.bytes.length;
      }
      throw new StoreWriteError(
        `Could not write ${batch.records.length} records to ${segment.path}`,
        error,
      );
    }
    for (const record of batch.records) {
      this.#index.addRecord(segment, {
        ...record,
        start: base + record.start,
        end: base + record.end,
      });
    }
    this.#lastSeq += batch.records.length;
    segment.size = base + batch.bytes.length;
    segment.scannedEnd = segment.size;
    this.#lastWriteMs.set(segment, now);
    this.#unsynced.add(segment);
  }

  #createSegment(now: number): SegmentEntry {
    const previous = this.#index.segments.at(-1);
    const number = Math.max(this.#maxFileNumber, previous?.number ?? 0) + 1;
    const path = this.#fs.join(this.#dir, segmentFileName(number));
    // Taken even if creation fails, so the next attempt never collides with a leftover file.
    this.#maxFileNumber = number;
    this.#dirUnsynced = true;
    let file: StoreFile | null = null;
    try {
      file = this.#fs.open(path, "create");
      file.write(encodeFileHeader({
        segment: number,
        createdMs: now,
        writerId: this.#writerId,
        link: {
          previous: previous?.number ?? 0,
          previousBytes: previous?.size ?? 0,
          previousEvents: previous?.events ?? 0,
          firstSeq: this.#lastSeq + 1,
        },
      }));
    } catch (error) {
      file?.close();
      if (file !== null) this.#removeQuietly(path);
      throw new StoreWriteError(`Could not create segment ${path}`, error);
    }
    const segment = this.#index.addSegment({
      number,
      path,
      size: FILE_HEADER_SIZE,
      scannedEnd: FILE_HEADER_SIZE,
      createdMs: now,
      appendable: true,
      file,
    });
    this.#lastWriteMs.set(segment, now);
    this.#active = segment;
    return segment;
  }

  /**
   * Begins a new segment after a newest one that ends in damage (at open).
   * When that fails (a full disk, say), the first append tries again and
   * throws the error to its caller, so nothing is hidden by waiting.
   */
  #beginAfterTornTail(): void {
    try {
      this.#createSegment(this.#openedMs);
    } catch (error) {
      if (!(error instanceof StoreWriteError)) throw error;
    }
  }

  /** Removes a segment file whose creation failed; a file left behind is counted as damage at the next open. */
  #removeQuietly(path: string): void {
    try {
      this.#fs.remove(path);
    } catch {
      // The creation error is the one to report; this one would only hide it.
    }
  }

  /** Removes the oldest segments while the store is too big or they are too old. */
  #applyRetention(now: number, incoming: number): EvictionCounts | null {
    const { maxBytes, maxAgeMs } = this.#options;
    const cutoff = now - maxAgeMs;
    let bytes = this.#index.bytes + incoming;
    let evicted: EvictionCounts | null = null;
    while (true) {
      const oldest = this.#index.segments[0];
      if (oldest === undefined || oldest === this.#active) break;
      if (bytes <= maxBytes && !(this.#sealedAt(oldest) < cutoff)) break;
      this.#options.onEvict?.(oldest.records);
      try {
        this.#closeFile(oldest);
        this.#fs.remove(oldest.path);
      } catch (error) {
        if (!this.#fs.isNotFound(error)) {
          throw new StoreWriteError(
            `Could not remove segment ${oldest.path} for retention; check the permissions of ${this.#dir}`,
            error,
          );
        }
      }
      this.#unsynced.delete(oldest);
      this.#dirUnsynced = true;
      const removed = this.#index.removeSegment(oldest);
      bytes -= removed.bytes;
      evicted ??= { segments: 0, records: 0, events: 0, bytes: 0 };
      evicted.segments++;
      evicted.records += removed.records;
      evicted.events += removed.events;
      evicted.bytes += removed.bytes;
    }
    if (evicted !== null) {
      this.#evicted.segments += evicted.segments;
      this.#evicted.records += evicted.records;
      this.#evicted.events += evicted.events;
      this.#evicted.bytes += evicted.bytes;
    }
    return evicted;
  }

  /**
   * A time by which every write to `segment` was done: its last write by this
   * instance, else the creation time of the next segment with an intact
   * header, else the time this instance opened the store (it holds the lock,
   * so nobody wrote since).
   */
  #sealedAt(segment: SegmentEntry): number {
    const lastWrite = this.#lastWriteMs.get(segment);
    if (lastWrite !== undefined) return lastWrite;
    const segments = this.#index.segments;
    for (let i = segments.indexOf(segment) + 1; i < segments.length; i++) {
      const createdMs = segments[i]!.createdMs;
      if (!Number.isNaN(createdMs)) return createdMs;
    }
    return this.#openedMs;
  }

  #evictionEvent(evicted: EvictionCounts, now: number): LogEvent {
    return {
      ts_ms: now,
      level: "info",
      severity: SEVERITY.info,
      event: INTERNAL_EVENTS.evicted,
      producer: STORE_PRODUCER,
      seq: ++this.#internalSeq,
      fields: { ...evicted },
    };
  }

  // ---- reading ----

  /**
   * Reads and decodes records (given in file order), fetching neighbours with
   * one read. Records found damaged are skipped and counted; records of a
   * segment removed meanwhile are skipped.
   */
  #load(refs: readonly RecordRef[]): [RecordRef, LogEvent[]][] {
    const loaded: [RecordRef, LogEvent[]][] = [];
    let i = 0;
    while (i < refs.length) {
      const first = refs[i]!;
      const segment = first.segment;
      let end = first.end;
      let j = i + 1;
      while (j < refs.length) {
        const next = refs[j]!;
        if (
          next.segment !== segment || next.start < end || next.start - end > READ_GAP_BYTES ||
          next.end - first.start > READ_SPAN_BYTES
        ) {
          break;
        }
        end = next.end;
        j++;
      }
      const bytes = this.#readRange(segment, first.start, end);
      if (bytes !== null) {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let k = i; k < j; k++) {
          const ref = refs[k]!;
          const events = decodeRecord(bytes, view, ref.start - first.start, ref);
          if (events === null) this.#damage.read_failures++;
          else loaded.push([ref, events]);
        }
      }
      i = j;
    }
    return loaded;
  }

  #readRange(segment: SegmentEntry, start: number, end: number): Uint8Array | null {
    const file = this.#readFile(segment);
    if (file === null) return null;
    const bytes = new Uint8Array(end - start);
    try {
      return bytes.subarray(0, file.read(start, bytes));
    } catch (error) {
      throw new StoreReadError(`Could not read ${segment.path}`, error);
    }
  }

  /**
   * The segment's open handle, opening one to read if needed; null when the
   * file is gone. Read handles are cached, least recently used first out, so
   * a store of many segments never holds more than {@linkcode MAX_READ_FILES}.
   */
  #readFile(segment: SegmentEntry): StoreFile | null {
    if (segment.file !== null) {
      if (this.#readFiles.delete(segment)) this.#readFiles.add(segment);
      return segment.file;
    }
    if (this.#readFiles.size >= MAX_READ_FILES) {
      const [oldest] = this.#readFiles;
      this.#closeFile(oldest!);
    }
    try {
      segment.file = this.#fs.open(segment.path, "read");
    } catch (error) {
      if (this.#fs.isNotFound(error)) {
        this.#forget(segment);
        return null;
      }
      throw new StoreReadError(`Could not open ${segment.path}`, error);
    }
    this.#readFiles.add(segment);
    return segment.file;
  }

  /** Closes a segment's handle, if it has one. */
  #closeFile(segment: SegmentEntry): void {
    this.#readFiles.delete(segment);
    const file = segment.file;
    segment.file = null;
    file?.close();
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

function resolveOptions(options: SegmentStoreOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Segment store options must be an object");
  }
  const segmentBytes = options.segmentBytes ?? 8 * 1024 * 1024;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) {
    throw new RangeError(
      `segmentBytes must be a positive integer, got ${segmentBytes}: use a size in bytes such as 8388608`,
    );
  }
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  if (typeof maxBytes !== "number" || !(maxBytes > 0)) {
    throw new RangeError(
      `maxBytes must be a positive number, got ${maxBytes}: use a size in bytes, or Infinity for no limit`,
    );
  }
  const maxAgeMs = options.maxAgeMs ?? 7 * 24 * 60 * 60 * 1000;
  if (typeof maxAgeMs !== "number" || !(maxAgeMs > 0)) {
    throw new RangeError(
      `maxAgeMs must be a positive number, got ${maxAgeMs}: use milliseconds, or Infinity for no limit`,
    );
  }
  const clock = options.clock ?? Date.now;
  if (typeof clock !== "function") {
    throw new TypeError("clock must be a function returning epoch milliseconds");
  }
  return {
    segmentBytes,
    maxBytes,
    maxAgeMs,
    readOnly: options.readOnly ?? false,
    lockHeld: options.lockHeld ?? false,
    appendToLast: options.appendToLast ?? true,
    clock,
    fs: options.fs ?? denoFs,
    onEvict: options.onEvict ?? null,
  };
}

/** The lock of a store directory, held by {@linkcode lockStoreDir}'s caller. */
export interface StoreLock {
  /** Who holds it, as written into the lock file. */
  readonly holder: string;
  /** Releases the lock (closes the lock file). Idempotent. */
  release(): void;
}

/**
 * Takes the exclusive lock of a store directory (the `lock` file,
 * docs/internals.md "The lock") and writes the holder into it; throws a
 * {@linkcode StoreLockedError} naming the holder when another handle holds
 * it. `SegmentStore.open()` takes it itself unless told with `lockHeld` that
 * its caller holds it: the logger's thread holds it for its worker, so a
 * replacement worker never waits for a dead one's lock (docs/internals.md
 * "Worker restart").
 *
 * @example Keep a second writer out
 * ```ts
 * import { lockStoreDir } from "./segment_store.ts";
 * import { StoreLockedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const lock = lockStoreDir(dir);
 * assert.throws(() => lockStoreDir(dir), StoreLockedError);
 * lock.release();
 * lockStoreDir(dir).release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function lockStoreDir(
  dir: string,
  options: { fs?: StoreFs; writerId?: Uint8Array; clock?: () => number } = {},
): StoreLock {
  const fs = options.fs ?? denoFs;
  fs.mkdir(dir);
  const lock = fs.open(fs.join(dir, LOCK_FILE_NAME), "lock");
  if (!lock.tryLock()) {
    let holder: string | null = null;
    try {
      const bytes = new Uint8Array(256);
      holder = new TextDecoder().decode(bytes.subarray(0, lock.read(0, bytes))).trim() || null;
    } finally {
      lock.close();
    }
    throw new StoreLockedError(dir, holder);
  }
  const openedMs = (options.clock ?? Date.now)();
  const date = new Date(openedMs);
  const opened = Number.isNaN(date.getTime()) ? String(openedMs) : date.toISOString();
  const writerId = options.writerId ?? crypto.getRandomValues(new Uint8Array(WRITER_ID_SIZE));
  const holder = `writer ${toHex(writerId)}, opened ${opened}`;
  try {
    lock.truncate(0);
    lock.write(new TextEncoder().encode(holder + "\n"));
  } catch (error) {
    lock.close();
    throw error;
  }
  let held = true;
  return {
    holder,
    release() {
      if (!held) return;
      held = false;
      lock.close();
    },
  };
}

function decodeRecord(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  ref: RecordRef,
): LogEvent[] | null {
  const found = readRecordAt(bytes, view, at);
  if (
    typeof found === "string" || found.seq !== ref.seq || found.end - at !== ref.end - ref.start
  ) {
    return null;
  }
  try {
    return unpackEvents(bytes.subarray(found.payloadStart, found.end));
  } catch {
    // An intact record that does not unpack is counted by the caller as a read failure.
    return null;
  }
}

/** Index of the first record with a sequence number above `seq` (records are in seq order). */
function firstAfter(records: readonly RecordRef[], seq: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (records[mid]!.seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function concatBatches(a: EncodedBatch, b: EncodedBatch): EncodedBatch {
  const bytes = new Uint8Array(a.bytes.length + b.bytes.length);
  bytes.set(a.bytes);
  bytes.set(b.bytes, a.bytes.length);
  const shift = a.bytes.length;
  return {
    bytes,
    records: [
      ...a.records,
      ...b.records.map((r) => ({ ...r, start: r.start + shift, end: r.end + shift })),
    ],
  };
}

function isSorted(events: readonly LogEvent[]): boolean {
  for (let i = 1; i < events.length; i++) {
    if (compareEvents(events[i - 1]!, events[i]!) > 0) return false;
  }
  return true;
}

function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
