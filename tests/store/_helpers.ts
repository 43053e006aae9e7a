/**
 * Shared helpers of the store tests: event workloads, a file system that
 * records and fails, damaged and old-format stores.
 *
 * @module
 */
import { type LogEvent, markWtf8Strings } from "../../src/event.ts";
import { denoFs } from "../../src/store/_fs_deno.ts";
import type { StoreFile, StoreFs } from "../../src/store/fs.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";
import { FILE_HEADER_SIZE, segmentFileName } from "../../src/store/segment_format.ts";
import { makeEvent } from "../support/log_event.ts";
import { withTempDir } from "../support/temp_dir.ts";

/**
 * `fields` marked as holding strings that must be stored as WTF-8, as the
 * ring's decoder marks the fields of a record with a lone surrogate or a
 * leading U+FEFF in a key, a value or the event name (`markWtf8Strings` in
 * src/event.ts).
 */
export function marked<T extends object>(target: T): T {
  markWtf8Strings(target);
  return target;
}

/** Events `from`..`to` (inclusive) of one flow, one ms apart, with distinct seqs. */
export function flowEvents(flowId: string, from: number, to: number): LogEvent[] {
  const events: LogEvent[] = [];
  for (let n = from; n <= to; n++) {
    events.push(makeEvent(1_000 + n, { flow_id: flowId, n }, { seq: n }));
  }
  return events;
}

/** A clock the test moves by hand. */
export function manualClock(
  start = 1_700_000_000_000,
): { now: () => number; set(ms: number): void } {
  let ms = start;
  return {
    now: () => ms,
    set(value: number) {
      ms = value;
    },
  };
}

/** Names of the segment files in `dir`, sorted. */
export function segmentFiles(dir: string): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.name.startsWith("seg-")) names.push(entry.name);
  }
  return names.sort();
}

/** Every value kind a field can hold; a fresh object per call. */
export function valueKinds(): Record<string, unknown> {
  return {
    string: "héllo \u{1F600}",
    empty: "",
    // Lone surrogates, which UTF-8 cannot hold, in values and in a key.
    lone_high: "lone\uD800x",
    lone_low_at_end: "end\uDC00",
    reversed_pair: "\uDC00\uD800",
    "key\uDFFF": ["\uDBFF", { "\uD800": "\uDC00" }],
    integer: 42,
    negative: -7,
    float: 3.25,
    big_number: 2 ** 53 - 1,
    negative_zero: -0,
    nan: NaN,
    infinity: Infinity,
    minus_infinity: -Infinity,
    yes: true,
    no: false,
    nothing: null,
    missing: undefined,
    small_bigint: 5n,
    negative_bigint: -5n,
    int64_bigint: 2n ** 63n - 1n,
    uint64_bigint: 2n ** 64n - 1n,
    huge_bigint: 2n ** 5000n + 12345n,
    huge_negative_bigint: -(2n ** 300n),
    date: new Date(1_700_000_000_123),
    invalid_date: new Date(NaN),
    nested: { a: [1, "two", { three: [null, undefined, -0] }], b: {} },
    array: [],
    map: new Map<unknown, unknown>([["k", 1], [2, "v"]]),
  };
}

/** Calls seen by a {@linkcode recordingFs}. */
export interface FsLog {
  writes: { path: string; bytes: number }[];
  reads: { path: string; bytes: number }[];
  syncs: string[];
  dirSyncs: string[];
  /** Files open now, and the most that were open at once. */
  open: number;
  maxOpen: number;
}

/** Hooks to make a {@linkcode recordingFs} fail. */
export interface FsFaults {
  /** Called before each write; throw to fail it, return a number to write only that many bytes first. */
  write?: (path: string, data: Uint8Array) => number | void;
  truncate?: (path: string) => void;
}

/** The Deno file system, logging calls and failing where told. */
export function recordingFs(faults: FsFaults = {}): { fs: StoreFs; log: FsLog } {
  const log: FsLog = { writes: [], reads: [], syncs: [], dirSyncs: [], open: 0, maxOpen: 0 };
  const wrap = (path: string, file: StoreFile): StoreFile => ({
    read(position, into) {
      const n = file.read(position, into);
      log.reads.push({ path, bytes: n });
      return n;
    },
    write(data) {
      const partial = faults.write?.(path, data);
      if (typeof partial === "number") {
        file.write(data.subarray(0, partial));
        throw new Error("No space left on device (os error 28)");
      }
      file.write(data);
      log.writes.push({ path, bytes: data.length });
    },
    truncate(length) {
      faults.truncate?.(path);
      file.truncate(length);
    },
    size: () => file.size(),
    sync() {
      log.syncs.push(path);
      file.sync();
    },
    tryLock: () => file.tryLock(),
    close() {
      log.open--;
      file.close();
    },
  });
  const fs: StoreFs = {
    ...denoFs,
    open(path, mode) {
      const file = wrap(path, denoFs.open(path, mode));
      log.maxOpen = Math.max(log.maxOpen, ++log.open);
      return file;
    },
    syncDir(path) {
      log.dirSyncs.push(path);
      denoFs.syncDir(path);
    },
  };
  return { fs, log };
}

/**
 * Writes `count` one-record segments into `dir`, each damaged: a flipped
 * payload byte and half a copy of the record dangling after it. Returns the
 * total bytes written. (tests/store/segment_store_recovery_test.ts, and the
 * full-size run in bench/soak.ts.)
 */
export async function writeDamagedSegments(dir: string, count: number): Promise<number> {
  let total = 0;
  await withTempDir((source) => {
    const store = SegmentStore.open(source, { maxAgeMs: Infinity, segmentBytes: 1 });
    for (let s = 0; s < count; s++) store.append(flowEvents(`f${s % 10}`, s * 4 + 1, s * 4 + 4));
    store.close();
    for (let s = 1; s <= count; s++) {
      const bytes = Deno.readFileSync(`${source}/${segmentFileName(s)}`);
      bytes[bytes.length - 5]! ^= 0x40;
      const torn = new Uint8Array(bytes.length + 40);
      torn.set(bytes);
      torn.set(bytes.subarray(FILE_HEADER_SIZE, FILE_HEADER_SIZE + 40), bytes.length);
      Deno.writeFileSync(`${dir}/${segmentFileName(s)}`, torn);
      total += torn.length;
    }
  });
  return total;
}

/**
 * A store of format version 2 in `fixtures/store_v2/`, written by the
 * previous writer (commit 10430a2, segmentBytes 400): 4 segments of 3
 * one-event records, events n = 0..11 of flows f0 and f1 (seq n + 1, every
 * fifth an error).
 */
export const V2_STORE = new URL("./fixtures/store_v2/", import.meta.url).pathname;

/** Copies the version 2 store into `dir`. */
export function copyV2Store(dir: string): void {
  for (const entry of Deno.readDirSync(V2_STORE)) {
    Deno.copyFileSync(`${V2_STORE}${entry.name}`, `${dir}/${entry.name}`);
  }
}
