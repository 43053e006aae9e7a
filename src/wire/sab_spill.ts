/**
 * The `sab` transport's unload spill (docs/internals.md "Unload spill"): at
 * `pagehide` the page copies, synchronously, the records its worker has not
 * committed yet, from the ring's `STORED` to its own `HEAD`, into a batch in
 * the `"message"` transport's format that `platform/browser.ts` writes where
 * the next page finds it (docs/browser.md "Page lifecycle"). The next worker
 * ingests it after {@linkcode skipStored} removed what the old worker
 * committed after all (it races the page).
 *
 * The batch helpers at the end serve both transports' spills: what a batch
 * holds ({@linkcode batchUsers}, {@linkcode lastSeq}) and the `log.dropped`
 * record of a batch no storage took ({@linkcode lossBatch}). The definitions
 * a spill inserts come from the producer: the logger's `Core` keeps the last
 * two epochs' definitions and lends them through `Transport.definitions`.
 *
 * @module
 */
import {
  copySpan,
  FLAG_BINDINGS,
  FLAG_INTERNAL,
  FLAG_SHAPE,
  loadStored,
  RECORD_FIXED_BYTES,
  walkRecords,
} from "./ring.ts";
import { Encoder } from "./codec.ts";
import { INTERNAL_EVENTS } from "../event.ts";
import { SEVERITY } from "../level.ts";

/**
 * Version of a spilled batch's format, in a `localStorage` entry's header and
 * in a `pending` row (`v`): a newer page's batch is left for a page that
 * reads it. Version 3 batches may hold shapes with constants, version 2 ones
 * shapes without, version 1 ones no shapes (docs/internals.md "Shapes by
 * reference"); all three are read, as is a `pending` row without `v` (rows
 * carried none up to version 3).
 */
export const SPILL_VERSION = 3;

/**
 * A postMessage batch the page could not hand to its worker before it went
 * away (`pagehide`): the framed records as the worker would have received
 * them, with the front end's counters. The next worker to open the database
 * stores them.
 */
export interface PendingBatch {
  /**
   * {@linkcode SPILL_VERSION} of the batch's format, set on a `pending` row
   * (`IdbStore.takePending()` leaves a newer one); absent elsewhere.
   */
  v?: number;
  /** Producer id of the page's logger. */
  producer: string;
  /** Records laid end to end (the `"message"` transport's batch format). */
  bytes: Uint8Array;
  /** The front end's `emitted` counter when it spilled. */
  emitted: number;
  /** The front end's `dropped` counter when it spilled. */
  dropped: number;
  /**
   * Set by `IdbStore.takePending()`: the highest seq of this producer already
   * in the database (a `sab` page spills what its worker had not committed
   * when it looked, and the worker may have committed some of it after all).
   */
  stored?: number;
  /**
   * Set on a batch that records a loss (a `log.dropped` record for spilled
   * events that never arrived): the last `seq` of those events. The worker
   * leaves the batch out when the producer's events up to it are stored
   * after all.
   */
  unlessStored?: number;
}

/** A bindings definition record as the producer keeps it (see `Bindings` in `front/logger.ts`). */
export interface DefinitionRecord {
  /** The record, length word first, padded to whole 4-byte words. */
  readonly record: Uint8Array;
  /** Bytes of the record (unpadded). */
  readonly length: number;
}

/**
 * Copies the records between `STORED` and `head` (the producer's local
 * `HEAD`, published or not) out of `ring`, inserting the definitions they
 * need (`definition(id)`; an event whose definition is unknown is left out
 * and counted in `missing`). Returns null when there is nothing to spill.
 */
export function spillRing(
  ring: SharedArrayBuffer | ArrayBuffer,
  head: number,
  definition: (id: number) => DefinitionRecord | undefined,
): { bytes: Uint8Array; records: number; missing: number } | null {
  // Null: nothing, or a STORED that is not this ring's.
  const span = copySpan(ring, loadStored(ring), head);
  if (span === null) return null;
  const { bytes: copy, off, cap } = span;
  const used = copy.length;

  const out = new Uint8Array(used + 4096);
  let buf = out;
  let fill = 0;
  const put = (src: Uint8Array, start: number, len: number): number => {
    const need = (len + 3) & ~3;
    if (fill + need > buf.length) {
      const grown = new Uint8Array(Math.max(buf.length * 2, fill + need));
      grown.set(buf.subarray(0, fill));
      buf = grown;
    }
    const at = fill;
    buf.set(src.subarray(start, start + len), at);
    fill += need;
    return at;
  };
  const dv = () => new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const defined = new Set<number>();
  let records = 0;
  let missing = 0;
  const src = new DataView(copy.buffer);
  walkRecords(copy, used, off, cap, (bytes, start, end) => {
    const bindId = src.getUint32(start + 16, true);
    if ((bytes[start + 13]! & FLAG_BINDINGS) !== 0) {
      const at = put(bytes, start - 4, end - start + 4);
      dv().setUint32(at + 4, 1, true); // epoch 1: the decoder keeps every definition
      defined.add(bindId);
      return;
    }
    // An event of a shape (docs/internals.md "Shapes by reference") needs its definition too.
    const shapeId = (bytes[start + 13]! & FLAG_SHAPE) !== 0 && end - start >= 24
      ? src.getUint32(start + 20, true)
      : 0;
    for (const id of shapeId === 0 ? [bindId] : [bindId, shapeId]) {
      if (id === 0 || defined.has(id)) continue;
      const def = definition(id);
      if (def === undefined) {
        missing++;
        return;
      }
      const at = put(def.record, 0, def.length);
      dv().setUint32(at + 4, 1, true);
      defined.add(id);
    }
    put(bytes, start - 4, end - start + 4);
    records++;
  });
  return records === 0 ? null : { bytes: buf.slice(0, fill), records, missing };
}

/**
 * Removes from a spilled batch the events the old worker committed: every
 * event up to the last one whose `seq` is at most `storedSeq` (records are in
 * order, and the worker commits in order). Definitions are kept. Internal
 * events carry seq 0 and go with the events around them.
 */
export function skipStored(bytes: Uint8Array, storedSeq: number): Uint8Array {
  if (storedSeq <= 0) return bytes;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // First pass: the end of the committed prefix.
  let cut = 0;
  walkRecords(bytes, bytes.length, 0, 0x40000000, (b, start, end) => {
    if ((b[start + 13]! & FLAG_BINDINGS) !== 0) return;
    const seq = dv.getUint32(start, true);
    if (seq !== 0 && seq <= storedSeq) cut = end;
  });
  if (cut === 0) return bytes;
  const out = new Uint8Array(bytes.length);
  let fill = 0;
  walkRecords(bytes, bytes.length, 0, 0x40000000, (b, start, end) => {
    if (end <= cut && (b[start + 13]! & FLAG_BINDINGS) === 0) return;
    const len = end - start + 4;
    out.set(b.subarray(start - 4, start - 4 + len), fill);
    fill += (len + 3) & ~3;
  });
  return out.slice(0, fill);
}

/** The highest `seq` of the events in a spilled batch (0 when there are none). */
export function lastSeq(bytes: Uint8Array): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let last = 0;
  walkRecords(bytes, bytes.length, 0, 0x40000000, (b, start) => {
    if ((b[start + 13]! & FLAG_BINDINGS) !== 0) return;
    const seq = dv.getUint32(start, true);
    if (seq > last) last = seq;
  });
  return last;
}

/**
 * User events of a batch (records end to end): their number, last `seq`,
 * first and last time; and `end`, where the last whole record ends (a batch
 * cut short is read up to there). A plain loop, no callback: it runs during
 * `pagehide`, when a page has little time and this code has never been
 * optimized.
 */
export function batchUsers(
  bytes: Uint8Array,
): { count: number; last: number; since: number; until: number; end: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = { count: 0, last: 0, since: 0, until: 0, end: 0 };
  let pos = 0;
  while (pos + RECORD_FIXED_BYTES <= bytes.length) {
    const len = dv.getUint32(pos, true);
    const next = pos + ((len + 7) & ~3); // the length word, then the record padded to 4
    if (len < RECORD_FIXED_BYTES - 4 || next > bytes.length) break;
    if ((bytes[pos + 17]! & (FLAG_BINDINGS | FLAG_INTERNAL)) === 0) {
      const ts = dv.getFloat64(pos + 8, true);
      if (r.count++ === 0) r.since = r.until = ts;
      else if (ts < r.since) r.since = ts;
      else if (ts > r.until) r.until = ts;
      r.last = dv.getUint32(pos + 4, true);
    }
    pos = next;
    r.end = pos;
  }
  return r;
}

/**
 * One `log.dropped` record (`cause: "pagehide"`, laid out as a batch): the
 * `count` user events logged from `since` to `until` that no storage took at
 * `pagehide`.
 */
export function droppedRecord(count: number, since: number, until: number): Uint8Array {
  const enc = new Encoder();
  const len = enc.encode(0, until, SEVERITY.warn, FLAG_INTERNAL, INTERNAL_EVENTS.dropped, {
    count,
    since_ms: since,
    until_ms: until,
    cause: "pagehide",
  });
  return enc.buf.slice(0, (len + 3) & ~3);
}

/**
 * The batch that records the loss of `batch` when no storage takes it at
 * `pagehide`: its user events counted in one {@linkcode droppedRecord}, with
 * the same producer and counters. Null when `batch` holds no user event.
 */
export function lossBatch(batch: PendingBatch): PendingBatch | null {
  const users = batchUsers(batch.bytes);
  if (users.count === 0) return null;
  return { ...batch, bytes: droppedRecord(users.count, users.since, users.until) };
}
