/**
 * The browser store: events in IndexedDB (through `idb`), written by the
 * worker one transaction per batch. The database layout ({@linkcode IdbRecord}
 * is a row of `records`), the transaction rules and what a full origin does
 * are in docs/internals.md "IndexedDB". Only a database with no record left
 * that still refuses a write makes `append()` reject, with a
 * {@linkcode StoreFullError}.
 *
 * @module
 */
import { type DBSchema, type IDBPDatabase, type IDBPTransaction, openDB } from "idb";
import { flowIdOf, type LogEvent } from "../event.ts";
import { flowLogOf } from "../query/flow_log.ts";
import { PageSearch } from "../query/search.ts";
import { NodeStatsAccumulator, type NodeStatsFilter } from "../query/node_stats.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../query/types.ts";
import {
  compileFlowListing,
  type FlowPage,
  listFlowPage,
  type ListFlowsOptions,
} from "../query/flow_list.ts";
import type { StoreOptions } from "./options.ts";
import { packEvents, unpackEvents } from "./payload_codec.ts";
import type { IdbRecord } from "./record.ts";
import { evictionEvent } from "./retention.ts";
import { isFlowId } from "./segment_format.ts";
import { DB_VERSION, type SchemaTarget, upgradeSchema } from "./idb_schema.ts";
import { type PendingBatch, SPILL_VERSION } from "../wire/sab_spill.ts";
import { StoreFullError, StoreWriteError } from "./errors.ts";

interface Totals {
  key: "totals";
  records: number;
  events: number;
  bytes: number;
  /** Longest `t1 - t0` of any record written, which bounds a time-range scan. */
  span: number;
}

/** Evictions since the database was created, by retention and by quota. */
export interface IdbEvictions {
  /** Records removed. */
  records: number;
  /** Events removed. */
  events: number;
  /** Payload bytes removed. */
  bytes: number;
  /** Times a `QuotaExceededError` was turned into an eviction. */
  quota: number;
}

interface Evicted extends IdbEvictions {
  key: "evicted";
}

/** The highest seq of a producer written so far: `takePending()` skips up to it. */
interface SeqMark {
  key: string;
  seq: number;
  /** When it was written (the store's clock): rows past the age limit are removed. */
  w: number;
}

const seqKey = (producer: string): string => `seq:${producer}`;

interface Schema extends DBSchema {
  records: {
    key: number;
    value: IdbRecord;
    indexes: { flow: [string, number]; t0: number; w: number };
  };
  meta: { key: string; value: Totals | Evicted | SeqMark };
  pending: { key: number; value: PendingBatch };
}

type WriteTx = IDBPTransaction<Schema, ("records" | "meta")[], "readwrite">;

/** Options of {@linkcode IdbStore.open}. */
export interface IdbStoreOptions extends StoreOptions {
  /**
   * Wall clock in ms since the epoch, for the age limit and `log.evicted`.
   * @default {Date.now}
   */
  clock?: () => number;
  /** Called after a write that recorded evictions (retention or quota) committed. */
  onEvict?: (evicted: IdbEvictions) => void;
}

/** Statistics of an {@linkcode IdbStore}. */
export interface IdbStoreStats {
  /** The database name. */
  database: string;
  /** Records, events and payload bytes in the database (every writer's). */
  records: number;
  events: number;
  bytes: number;
  /** Evictions in the database (every writer's). */
  evicted: IdbEvictions;
  /** Batches this instance wrote (one transaction each). */
  transactions: number;
}

/** Default `maxBytes` in browsers: an origin's quota is shared with the page's own data. */
export const DEFAULT_IDB_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** The empty totals and eviction rows. */
const ZERO_TOTALS: Totals = { key: "totals", records: 0, events: 0, bytes: 0, span: 0 };
const ZERO_EVICTED: Evicted = { key: "evicted", records: 0, events: 0, bytes: 0, quota: 0 };

/**
 * Events in IndexedDB. Asynchronous: the browser worker awaits each call.
 *
 * @example Write a batch and read its flow back
 * ```ts
 * import "fake-indexeddb/auto";
 * import { IdbStore } from "./idb_store.ts";
 * import assert from "node:assert/strict";
 * const store = await IdbStore.open("doc-example");
 * await store.append([
 *   { ts_ms: 1, level: "info", severity: 9, event: "step_end", producer: "p.1", seq: 1, fields: { flow_id: "f" } },
 * ]);
 * assert.equal((await store.getFlowLog("f")).events.length, 1);
 * await store.close();
 * ```
 */
export class IdbStore {
  readonly #db: IDBPDatabase<Schema>;
  readonly #name: string;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #clock: () => number;
  readonly #onEvict: (evicted: IdbEvictions) => void;
  #internalSeq = 0;
  #transactions = 0;
  #closed = false;
  // Removed by quota evictions and not yet in the totals (docs/internals.md "IndexedDB").
  #unrecorded: IdbEvictions | null = null;

  private constructor(
    db: IDBPDatabase<Schema>,
    name: string,
    options: IdbStoreOptions,
  ) {
    this.#db = db;
    this.#name = name;
    this.#maxBytes = options.maxBytes ?? DEFAULT_IDB_MAX_BYTES;
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.#clock = options.clock ?? Date.now;
    this.#onEvict = options.onEvict ?? (() => {});
  }

  /**
   * Opens (creating if needed) the database `name`. Throws a `TypeError` for
   * a bad name, and rejects when IndexedDB is unavailable. Limits are taken
   * as given: `createLogger()` checked them (`resolveStoreOptions()`).
   */
  static async open(name: string, options: IdbStoreOptions = {}): Promise<IdbStore> {
    if (typeof name !== "string" || name.length === 0) {
      throw new TypeError(`The database name must be a non-empty string, got ${String(name)}`);
    }
    if ((globalThis as { indexedDB?: unknown }).indexedDB === undefined) {
      throw new TypeError("IndexedDB is not available here: use the Deno build for files");
    }
    const db = await openDB<Schema>(name, DB_VERSION, {
      upgrade(db) {
        upgradeSchema(db as unknown as SchemaTarget);
      },
      // Another tab upgrading the schema: let it, this connection is finished.
      blocking() {
        db.close();
      },
    });
    const store = new IdbStore(db, name, options);
    await store.#recount();
    return store;
  }

  // A quota eviction whose retried write never came (the page went away in
  // between) left totals above what is stored: recount, and let the next write
  // record the difference as evicted. One count() per open otherwise.
  async #recount(): Promise<void> {
    const tx = this.#db.transaction(["records", "meta"], "readonly");
    const totals = (await tx.objectStore("meta").get("totals")) as Totals | undefined;
    const records = tx.objectStore("records");
    if (totals === undefined || totals.records <= (await records.count())) return await tx.done;
    const real = { records: 0, events: 0, bytes: 0 };
    let cursor = await records.openCursor();
    while (cursor !== null) {
      real.records++;
      real.events += cursor.value.n;
      real.bytes += cursor.value.data.length;
      cursor = await cursor.continue();
    }
    await tx.done;
    this.#unrecorded = {
      records: totals.records - real.records,
      events: Math.max(0, totals.events - real.events),
      bytes: Math.max(0, totals.bytes - real.bytes),
      quota: 1,
    };
  }

  /**
   * Writes `events` in one transaction: one record per flow, then retention.
   * A `QuotaExceededError` evicts the oldest records (counted) and retries.
   */
  async append(events: readonly LogEvent[]): Promise<void> {
    this.#assertOpen();
    if (events.length === 0) return;
    const records = toRecords(events, this.#clock());
    const seqs = new Map<string, number>();
    for (const e of events) if (e.seq > (seqs.get(e.producer) ?? 0)) seqs.set(e.producer, e.seq);
    await this.#commit(records, seqs, "relaxed", events.length);
  }

  // One write, retried after each quota eviction until no record is left to evict.
  async #commit(
    records: IdbRecord[],
    seqs: Map<string, number>,
    durability: "relaxed" | "strict",
    events: number,
  ): Promise<void> {
    // Each eviction deletes at least one record: this ends.
    for (;;) {
      try {
        await this.#write(records, seqs, durability);
        return;
      } catch (err) {
        if (!isQuotaError(err)) {
          throw new StoreWriteError(
            `IndexedDB database "${this.#name}" refused a write of ${events} events`,
            err,
          );
        }
        if (!(await this.#evictForQuota())) {
          throw new StoreFullError(this.#name, events, err);
        }
      }
    }
  }

  /**
   * Takes (reads and deletes, in one transaction, so two tabs never both
   * take one) the batches pages spilled at `pagehide`, but for those of a
   * newer format (`v` above {@linkcode SPILL_VERSION}), left for a page that
   * reads them. Sets each one's `stored` (and each of `also`'s, spilled
   * elsewhere) to its producer's highest seq written.
   */
  async takePending(also: PendingBatch[] = []): Promise<PendingBatch[]> {
    this.#assertOpen();
    const tx = this.#db.transaction(["pending", "meta"], "readwrite");
    const batches: PendingBatch[] = [];
    let at = await tx.objectStore("pending").openCursor();
    while (at !== null) {
      if ((at.value.v ?? SPILL_VERSION) <= SPILL_VERSION) {
        batches.push(at.value);
        await at.delete();
      }
      at = await at.continue();
    }
    // A page spills what its worker had not committed when it looked; the
    // worker may have committed some of it after all: say up to which seq.
    const meta = tx.objectStore("meta");
    for (const batch of [...batches, ...also]) {
      const mark = (await meta.get(seqKey(batch.producer))) as SeqMark | undefined;
      if (mark !== undefined) batch.stored = mark.seq;
    }
    // One row per page that ever wrote: those past the age limit go (their events did too).
    const horizon = this.#clock() - this.#maxAgeMs;
    let row = await meta.openCursor(keyRange().bound("seq:", "seq:\uffff"));
    while (row !== null) {
      if (((row.value as SeqMark).w ?? 0) < horizon) row.delete().catch(ignore);
      row = await row.continue();
    }
    await tx.done;
    return batches;
  }

  /** Commits an empty-handed `durability: "strict"` transaction: earlier writes are on disk. */
  async sync(): Promise<void> {
    this.#assertOpen();
    // The totals rewritten (with any quota eviction not recorded yet): a full origin evicts here too.
    await this.#commit([], new Map(), "strict", 0);
  }

  // Relaxed durability (the OS may still hold the data); sync() makes it strict.
  async #write(
    records: IdbRecord[],
    seqs: Map<string, number>,
    durability: "relaxed" | "strict",
  ): Promise<void> {
    const tx: WriteTx = this.#db.transaction(["records", "meta"], "readwrite", { durability });
    tx.done.catch(() => {}); // awaited below, unless the body throws first
    const unrecorded = this.#unrecorded;
    let evicted: IdbEvictions | null;
    try {
      evicted = await this.#fill(tx, records, unrecorded);
      const meta = tx.objectStore("meta");
      const w = this.#clock();
      for (const [producer, seq] of seqs) meta.put({ key: seqKey(producer), seq, w }).catch(ignore);
    } catch (err) {
      // All or nothing: never let a half-filled transaction commit.
      try {
        tx.abort();
      } catch {
        // already finished
      }
      throw err;
    }
    await tx.done;
    this.#transactions++;
    if (unrecorded !== null) this.#unrecorded = subtract(this.#unrecorded, unrecorded);
    if (evicted !== null) this.#onEvict(evicted);
  }

  // Adds the records, applies retention and records evictions; returns them (null: none).
  async #fill(
    tx: WriteTx,
    records: IdbRecord[],
    unrecorded: IdbEvictions | null,
  ): Promise<IdbEvictions | null> {
    const store = tx.objectStore("records");
    const meta = tx.objectStore("meta");
    const totals = { ...((await meta.get("totals")) as Totals | undefined ?? ZERO_TOTALS) };
    for (const r of records) {
      store.add(r).catch(ignore);
      totals.records++;
      totals.events += r.n;
      totals.bytes += r.data.length;
      if (r.t1 - r.t0 > totals.span) totals.span = r.t1 - r.t0;
    }
    if (unrecorded !== null) {
      totals.records = Math.max(0, totals.records - unrecorded.records);
      totals.events = Math.max(0, totals.events - unrecorded.events);
      totals.bytes = Math.max(0, totals.bytes - unrecorded.bytes);
    }
    const retained = await this.#retain(tx, totals);
    const notices: LogEvent[] = [];
    if (unrecorded !== null) notices.push(this.#evictionEvent(unrecorded, "quota"));
    if (retained !== null) notices.push(this.#evictionEvent(retained));
    for (const notice of toRecords(notices, this.#clock())) {
      store.add(notice).catch(ignore);
      totals.records++;
      totals.events += notice.n;
      totals.bytes += notice.data.length;
    }
    const evicted = unrecorded === null ? retained : retained === null ? unrecorded : {
      records: unrecorded.records + retained.records,
      events: unrecorded.events + retained.events,
      bytes: unrecorded.bytes + retained.bytes,
      quota: unrecorded.quota,
    };
    if (evicted !== null) await addEvicted(meta, evicted);
    meta.put(totals).catch(ignore);
    return evicted;
  }

  // Removes records past the age limit, then the oldest while over maxBytes.
  async #retain(tx: WriteTx, totals: Totals): Promise<IdbEvictions | null> {
    const store = tx.objectStore("records");
    let removed: IdbEvictions | null = null;
    const remove = (r: IdbRecord) => {
      removed ??= { records: 0, events: 0, bytes: 0, quota: 0 };
      removed.records++;
      removed.events += r.n;
      removed.bytes += r.data.length;
      totals.records--;
      totals.events -= r.n;
      totals.bytes -= r.data.length;
    };
    const horizon = this.#clock() - this.#maxAgeMs;
    let old = await store.index("w").openCursor(keyRange().upperBound(horizon, true));
    while (old !== null) {
      remove(old.value);
      old.delete().catch(ignore);
      old = await old.continue();
    }
    if (totals.bytes > this.#maxBytes) {
      let cursor = await store.openCursor();
      while (cursor !== null && totals.bytes > this.#maxBytes) {
        remove(cursor.value);
        cursor.delete().catch(ignore);
        cursor = await cursor.continue();
      }
    }
    return removed;
  }

  // A full origin: delete the oldest quarter of the bytes (at least one
  // record), in a transaction of deletions alone (docs/internals.md "IndexedDB"); the
  // next write records them. False when there was no record to delete.
  async #evictForQuota(): Promise<boolean> {
    const tx = this.#db.transaction(["records", "meta"], "readwrite");
    tx.done.catch(() => {}); // awaited below
    const totals = (await tx.objectStore("meta").get("totals")) as Totals | undefined;
    const bytes = (totals?.bytes ?? 0) - (this.#unrecorded?.bytes ?? 0);
    const target = bytes - Math.ceil(bytes / 4);
    const removed: IdbEvictions = { records: 0, events: 0, bytes: 0, quota: 1 };
    let left = bytes;
    let cursor = await tx.objectStore("records").openCursor();
    while (cursor !== null && (removed.records === 0 || left > target)) {
      const r = cursor.value;
      removed.records++;
      removed.events += r.n;
      removed.bytes += r.data.length;
      left -= r.data.length;
      cursor.delete().catch(ignore);
      cursor = await cursor.continue();
    }
    await tx.done;
    if (removed.records === 0) return false;
    this.#unrecorded = add(this.#unrecorded, removed);
    return true;
  }

  #evictionEvent(evicted: IdbEvictions, cause?: "quota"): LogEvent {
    const fields: Record<string, unknown> = {
      records: evicted.records,
      events: evicted.events,
      bytes: evicted.bytes,
    };
    if (cause !== undefined) fields.cause = cause;
    return evictionEvent(fields, this.#clock(), ++this.#internalSeq);
  }

  /**
   * Everything recorded for one flow (see `buildFlowLog()`); reads only that
   * flow's records, through the `flow` index.
   */
  async getFlowLog(flowId: string): Promise<FlowLog> {
    const events: LogEvent[] = [];
    for (const payload of await this.flowPayloads(flowId)) {
      const got = unpackEvents(payload);
      for (let i = 0; i < got.length; i++) events.push(got[i]!);
    }
    return flowLogOf(flowId, events);
  }

  /** The msgpackr payloads of one flow's records, in time order of their first events. */
  async flowPayloads(flowId: string): Promise<Uint8Array[]> {
    this.#assertOpen();
    if (typeof flowId !== "string") {
      throw new TypeError(`Flow id must be a string, got ${typeof flowId}`);
    }
    const records = await this.#db.getAllFromIndex(
      "records",
      "flow",
      keyRange().bound([flowId, -Infinity], [flowId, Infinity]),
    );
    return records.map((r) => r.data);
  }

  /**
   * One page of events matching `filter`, in timestamp order. A `flow_id`
   * reads that flow's records only; otherwise records are read in `t0` order
   * from `since_ms` on and the reading stops once no later record can make
   * the page.
   */
  async query(filter: QueryFilter = {}): Promise<QueryPage> {
    this.#assertOpen();
    const search = new PageSearch(filter);
    const { flowId, sinceMs, untilMs, after } = search.filter;
    const offer = (r: IdbRecord) => {
      if (search.mayHold(r.t0, r.t1, r.sev)) search.offer(r.id!, unpackEvents(r.data));
    };
    if (flowId !== undefined) {
      if (isFlowId(flowId)) {
        const range = keyRange().bound([flowId, -Infinity], [flowId, untilMs]);
        for (const r of await this.#db.getAllFromIndex("records", "flow", range)) offer(r);
      }
    } else {
      // Records overlapping [lower, until) have t0 < until and t0 >= lower - span,
      // where span is the longest t0..t1 of any record (one batch: milliseconds).
      // Read in t0 order and stop once no later record can make the page.
      const tx = this.#db.transaction(["records", "meta"], "readonly");
      const totals = (await tx.objectStore("meta").get("totals")) as Totals | undefined;
      const lower = Math.max(sinceMs, after === null ? -Infinity : after.ts_ms);
      const from = lower - (totals?.span ?? 0);
      // An empty window (since_ms = until_ms) is no valid key range: nothing to read.
      if (from < untilMs) {
        const range = keyRange().bound(from, untilMs, false, true);
        let cursor = await tx.objectStore("records").index("t0").openCursor(range);
        while (cursor !== null && cursor.value.t0 <= search.bound) {
          offer(cursor.value);
          cursor = await cursor.continue();
        }
      }
      await tx.done;
    }
    return search.page();
  }

  /**
   * Per-node statistics over the records that `filter` may match (see
   * `NodeStatsAccumulator`): a `flow_id` reads that flow's records through
   * the `flow` index, else a cursor walks the `t0` index over the time range;
   * one record is unpacked at a time. Rejects with a `TypeError`/`RangeError`
   * for an invalid filter.
   */
  async nodeStats(filter?: NodeStatsFilter): Promise<NodeStatsAccumulator> {
    this.#assertOpen();
    const stats = new NodeStatsAccumulator(filter);
    const { flowId, sinceMs, untilMs } = stats;
    const offer = (r: IdbRecord) => {
      if (stats.mayHold(r.t0, r.t1)) stats.offer(unpackEvents(r.data));
    };
    if (flowId !== undefined && isFlowId(flowId)) {
      const range = keyRange().bound([flowId, -Infinity], [flowId, untilMs]);
      let cursor = await this.#db.transaction("records").store.index("flow").openCursor(range);
      while (cursor !== null) {
        offer(cursor.value);
        cursor = await cursor.continue();
      }
      return stats;
    }
    const tx = this.#db.transaction(["records", "meta"], "readonly");
    const totals = (await tx.objectStore("meta").get("totals")) as Totals | undefined;
    // As in query(): a record overlapping [since, until) has t0 >= since - span.
    const from = sinceMs - (totals?.span ?? 0);
    if (from < untilMs) {
      const range = keyRange().bound(from, untilMs, false, true);
      let cursor = await tx.objectStore("records").index("t0").openCursor(range);
      while (cursor !== null) {
        offer(cursor.value);
        cursor = await cursor.continue();
      }
    }
    await tx.done;
    return stats;
  }

  /**
   * One page of the stored flows, the most recent last event first (see
   * `listFlowPage()` in `query/flow_list.ts`): reads the rows of the `flow`
   * index, takes totals and order from their columns, and unpacks only the
   * page's flows. Rejects with a `TypeError`/`RangeError` for invalid
   * options or a foreign cursor.
   */
  async listFlowPage(options?: ListFlowsOptions): Promise<FlowPage> {
    this.#assertOpen();
    compileFlowListing(options); // bad options fail before the database is read
    const rows = await this.#db.getAllFromIndex("records", "flow");
    // The index is in [flow, t0] order; the tally takes records in write order.
    rows.sort((a, b) => a.id! - b.id!);
    const byFlow = new Map<string, IdbRecord[]>();
    const heads = rows.map((r) => {
      const flowId = r.flow!;
      const list = byFlow.get(flowId);
      if (list === undefined) byFlow.set(flowId, [r]);
      else list.push(r);
      // Rows count no errors: the page's flows are unpacked, and counted then.
      return {
        seq: r.id!,
        flowId,
        eventCount: r.n,
        errorCount: 0,
        maxSeverity: r.sev,
        minTs: r.t0,
        maxTs: r.t1,
      };
    });
    return listFlowPage(heads, (flowIds, snapshot) => {
      const events = new Map<string, LogEvent[]>();
      for (const flowId of flowIds) {
        const list: LogEvent[] = [];
        for (const r of byFlow.get(flowId) ?? []) {
          if (r.id! > snapshot) continue;
          const got = unpackEvents(r.data);
          for (let i = 0; i < got.length; i++) list.push(got[i]!);
        }
        events.set(flowId, list);
      }
      return events;
    }, options);
  }

  /** Totals and evictions of the database, and this instance's transactions. */
  async stats(): Promise<IdbStoreStats> {
    this.#assertOpen();
    const tx = this.#db.transaction("meta", "readonly");
    const totals = (await tx.store.get("totals")) as Totals | undefined ?? ZERO_TOTALS;
    const evicted = (await tx.store.get("evicted")) as Evicted | undefined ?? ZERO_EVICTED;
    await tx.done;
    return {
      database: this.#name,
      records: totals.records,
      events: totals.events,
      bytes: totals.bytes,
      evicted: {
        records: evicted.records,
        events: evicted.events,
        bytes: evicted.bytes,
        quota: evicted.quota,
      },
      transactions: this.#transactions,
    };
  }

  /** Closes the connection. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }

  #assertOpen(): void {
    if (this.#closed) throw new TypeError("The IndexedDB store is closed: open it again");
  }
}

interface MetaStore {
  get(key: string): Promise<Totals | Evicted | SeqMark | undefined>;
  put(value: Evicted): Promise<unknown>;
}

async function addEvicted(
  meta: MetaStore,
  removed: IdbEvictions,
): Promise<void> {
  const row = { ...((await meta.get("evicted")) as Evicted | undefined ?? ZERO_EVICTED) };
  row.records += removed.records;
  row.events += removed.events;
  row.bytes += removed.bytes;
  row.quota += removed.quota;
  await meta.put(row);
}

function add(a: IdbEvictions | null, b: IdbEvictions): IdbEvictions {
  if (a === null) return { ...b };
  return {
    records: a.records + b.records,
    events: a.events + b.events,
    bytes: a.bytes + b.bytes,
    quota: a.quota + b.quota,
  };
}

// What is left of `a` once `b` (a part of it, recorded meanwhile) is taken out.
function subtract(a: IdbEvictions | null, b: IdbEvictions): IdbEvictions | null {
  if (a === null || a === b) return null;
  const left = {
    records: a.records - b.records,
    events: a.events - b.events,
    bytes: a.bytes - b.bytes,
    quota: a.quota - b.quota,
  };
  return left.records > 0 ? left : null;
}

/** Groups a batch by flow: one record per flow, one for the events without a flow id. */
function toRecords(events: readonly LogEvent[], now: number): IdbRecord[] {
  const groups = new Map<string | null, LogEvent[]>();
  for (const event of events) {
    const flow = flowIdOf(event);
    const key = isFlowId(flow) ? flow : null;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [event]);
    else group.push(event);
  }
  const records: IdbRecord[] = [];
  for (const [flow, group] of groups) {
    let t0 = Infinity;
    let t1 = -Infinity;
    let sev = 0;
    for (const e of group) {
      if (e.ts_ms < t0) t0 = e.ts_ms;
      if (e.ts_ms > t1) t1 = e.ts_ms;
      if (e.severity > sev) sev = e.severity;
    }
    // A NaN timestamp is not a valid index key: such events still sort and match by ts_ms.
    if (!Number.isFinite(t0)) t0 = 0;
    if (!Number.isFinite(t1)) t1 = 0;
    // packEvents returns a view into msgpackr's buffer: copy it.
    const record: IdbRecord = {
      t0,
      t1,
      sev,
      n: group.length,
      w: now,
      data: packEvents(group).slice(),
    };
    if (flow !== null) record.flow = flow;
    records.push(record);
  }
  return records;
}

// A failed request also fails its transaction, which is where the error is read.
function ignore(): void {}

function isQuotaError(err: unknown): boolean {
  return typeof err === "object" && err !== null &&
    (err as { name?: unknown }).name === "QuotaExceededError";
}

// Deno's type libraries lack IndexedDB's globals; this is the one this module uses.
interface KeyRanges {
  bound(lower: unknown, upper: unknown, lowerOpen?: boolean, upperOpen?: boolean): unknown;
  upperBound(upper: unknown, open?: boolean): unknown;
}
function keyRange(): KeyRanges {
  return (globalThis as unknown as { IDBKeyRange: KeyRanges }).IDBKeyRange;
}
