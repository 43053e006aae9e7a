/**
 * The `sab` transport's unload spill. A page going away (`pagehide`) cannot
 * wait for its worker, and a reload terminates the worker before IndexedDB
 * commits what it drained. So the page copies, synchronously, every record
 * its worker has not committed yet: from the ring's `STORED` counter to its
 * own `HEAD` (`src/ring.ts`, "Unload spill"), into a batch in the format of
 * the `"message"` transport (records end to end) that `_runtime_browser.ts`
 * writes into the database's `pending` store. The next worker ingests it
 * after {@linkcode skipStored} removed what the old worker committed after
 * all (it races the page).
 *
 * Events refer to bindings definitions by id ("Bindings by reference"): a
 * definition may lie before `STORED`, so the spill inserts the definition of
 * every id it meets before its first event, taken from the producer (the
 * logger's `Core` keeps the last two epochs' definitions and lends them
 * through `Transport.definitions`). Every definition in the batch is stamped
 * epoch 1, so the decoder keeps them all (the batch is at most one ring long).
 *
 * @module
 */
import { FLAG_BINDINGS, HEADER_BYTES, STORED, walkRecords } from "./ring.ts";

/** A bindings definition record as the producer keeps it (see `Bindings` in `logger.ts`). */
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
  const i32 = new Int32Array(ring, 0, HEADER_BYTES / 4);
  const cap = ring.byteLength - HEADER_BYTES;
  const stored = Atomics.load(i32, STORED) >>> 0;
  const used = (head - stored) >>> 0;
  if (used === 0 || used > cap) return null; // nothing, or a STORED that is not this ring's
  const data = new Uint8Array(ring, HEADER_BYTES, cap);
  const copy = new Uint8Array(used);
  const off = stored & (cap - 1);
  const first = Math.min(used, cap - off);
  copy.set(data.subarray(off, off + first), 0);
  if (first < used) copy.set(data.subarray(0, used - first), first);

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
    if (bindId !== 0 && !defined.has(bindId)) {
      const def = definition(bindId);
      if (def === undefined) {
        missing++;
        return;
      }
      const at = put(def.record, 0, def.length);
      dv().setUint32(at + 4, 1, true);
      defined.add(bindId);
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
