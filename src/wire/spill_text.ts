/**
 * The unload spill's storage format: a {@linkcode PendingBatch} in
 * `localStorage`, the one storage a page can write synchronously, where the
 * spill goes first (docs/browser.md "Page lifecycle"). Entries written
 * during `pagehide` are there for the next page, which takes them
 * ({@linkcode readSpills}) and hands them to its worker.
 *
 * The entries' keys and values: docs/internals.md "Unload spill".
 *
 * @module
 */
import { batchUsers, droppedRecord, type PendingBatch, SPILL_VERSION } from "./sab_spill.ts";

/** Where an unload spill went: the database's `pending` store, localStorage, or nowhere. */
export type SpillPlace = "indexeddb" | "localStorage" | null;

/** Writes batches where the next page finds them, synchronously started. */
export interface Spill {
  /**
   * Starts writing `batches` (in order) into localStorage, and what it
   * refuses (its quota, or disabled) into the database's `pending` store; a
   * batch neither takes (the connection is not open yet) is replaced in
   * localStorage by `lost(batch)` when given, a smaller batch that records
   * the loss. Returns where the batches went; null when
   * nowhere.
   */
  write(batches: PendingBatch[], lost?: (batch: PendingBatch) => PendingBatch | null): SpillPlace;
  /** Takes (reads and removes) the batches earlier pages spilled into localStorage. */
  claim(): PendingBatch[];
  /** Closes the connection. */
  close(): void;
}

/**
 * Largest value written: Chromium lost single values of 200 KB and more
 * written during `pagehide` of a cross-origin navigation (1 MB: 6 of 12
 * kept), and none of 64 values of 16 KB (docs/browser.md "Page lifecycle").
 */
export const PART_BYTES = 16 * 1024;

interface Header {
  v: number;
  producer: string;
  emitted: number;
  dropped: number;
  /** This part's number, from 0, of `of`. */
  part: number;
  of: number;
  /** The whole batch's user events, last user `seq`, first and last time. */
  total: number;
  last: number;
  since: number;
  until: number;
}

/** Prefix of every entry of database `dir` (entries of other databases do not match). */
export function spillPrefix(dir: string): string {
  return `flightlog-spill ${JSON.stringify(dir)} `;
}

/**
 * The entries of `batch` in database `dir`: its bytes in slices of
 * {@linkcode PART_BYTES}, one entry each. `now` and `n` tell the batches of
 * one instant apart. Costs a copy and a walk of the records: it runs during
 * `pagehide`.
 */
export function spillEntries(
  dir: string,
  batch: PendingBatch,
  now: number,
  n: number,
): { key: string; value: string }[] {
  const bytes = batch.bytes;
  const users = batchUsers(bytes);
  const of = Math.max(1, Math.ceil(bytes.length / PART_BYTES));
  const base = `${spillPrefix(dir)}${batch.producer} ${now.toString(36)}.${n} `;
  const entries: { key: string; value: string }[] = [];
  for (let part = 0; part < of; part++) {
    const header: Header = {
      v: SPILL_VERSION,
      producer: batch.producer,
      emitted: batch.emitted,
      dropped: batch.dropped,
      part,
      of,
      total: users.count,
      last: users.last,
      since: users.since,
      until: users.until,
    };
    const text: string[] = [JSON.stringify(header), "\n"];
    const end = Math.min(bytes.length, (part + 1) * PART_BYTES);
    // apply, not spread: 40× faster before the code is optimized, as it is at pagehide.
    for (let i = part * PART_BYTES; i < end; i += 8192) {
      const slice = bytes.subarray(i, Math.min(end, i + 8192));
      text.push(String.fromCharCode.apply(null, slice as unknown as number[]));
    }
    entries.push({ key: base + String(part).padStart(5, "0"), value: text.join("") });
  }
  return entries;
}

/**
 * The batches of spill entries (all of one database, any order), each put
 * together from its parts. A batch with a part missing (the page went away
 * while writing them) keeps the parts before it, up to the last whole
 * record, and gets a second batch: one `log.dropped` record counting the
 * events of the rest, which the worker leaves out when those are stored after
 * all (`unlessStored`). `taken` lists the keys read (entries of another
 * format version are left alone).
 */
export function readSpills(
  entries: { key: string; value: string }[],
): { batches: PendingBatch[]; taken: string[] } {
  const groups = new Map<string, { header: Header; bytes: Uint8Array }[]>();
  const taken: string[] = [];
  for (const { key, value } of [...entries].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const part = decodePart(value);
    if (part === null) continue;
    taken.push(key);
    const base = key.slice(0, key.lastIndexOf(" "));
    const group = groups.get(base);
    if (group === undefined) groups.set(base, [part]);
    else group.push(part);
  }
  const batches: PendingBatch[] = [];
  for (const parts of groups.values()) {
    const { producer, emitted, dropped, total, last, since, until } = parts[0]!.header;
    let kept = 0;
    while (kept < parts.length && parts[kept]!.header.part === kept) kept++;
    const whole = new Uint8Array(parts.slice(0, kept).reduce((n, p) => n + p.bytes.length, 0));
    let at = 0;
    for (let i = 0; i < kept; i++) {
      whole.set(parts[i]!.bytes, at);
      at += parts[i]!.bytes.length;
    }
    const users = batchUsers(whole);
    if (users.end > 0) {
      batches.push({ producer, bytes: whole.slice(0, users.end), emitted, dropped });
    }
    if (users.count < total) {
      const bytes = droppedRecord(total - users.count, since, until);
      batches.push({ producer, bytes, emitted, dropped, unlessStored: last });
    }
  }
  return { batches, taken };
}

function decodePart(text: string): { header: Header; bytes: Uint8Array } | null {
  const cut = text.indexOf("\n");
  if (cut < 0) return null;
  let header: Header;
  try {
    header = JSON.parse(text.slice(0, cut));
  } catch {
    return null;
  }
  if (
    typeof header?.v !== "number" || header.v < 1 || header.v > SPILL_VERSION ||
    typeof header.producer !== "string"
  ) return null;
  const n = text.length - cut - 1;
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(cut + 1 + i);
    if (c > 0xff) return null;
    bytes[i] = c;
  }
  return { header, bytes };
}
