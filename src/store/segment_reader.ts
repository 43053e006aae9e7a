/**
 * Reading indexed records back from their segment files, through a cache of
 * open read handles: what a query, a flow log and the uplink's reads cost in
 * I/O.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { StoreReadError } from "./errors.ts";
import type { StoreFile, StoreFs } from "./fs.ts";
import { unpackEvents } from "./payload_codec.ts";
import { readRecordAt } from "./record_scanner.ts";
import type { IndexedRecord, SegmentEntry, StoreIndex } from "./store_index.ts";

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
 * Reads the records of a {@linkcode StoreIndex} from their files. Read
 * handles are cached, least recently used first out, so a store of many
 * segments never holds more than 32 open; a segment's `file` is its handle,
 * the writer's append handle included.
 *
 * @example Read back a record written by hand
 * ```ts
 * import { denoFs } from "./_fs_deno.ts";
 * import { encodeBatch } from "./batch_encoder.ts";
 * import { SegmentReader } from "./segment_reader.ts";
 * import { StoreIndex } from "./store_index.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/records`;
 * const batch = encodeBatch([{ ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: {} }], 1);
 * await Deno.writeFile(path, batch.bytes);
 * const index = new StoreIndex();
 * const size = batch.bytes.length;
 * const segment = index.addSegment({ number: 1, path, size, scannedEnd: size, createdMs: 0, appendable: false, file: null });
 * index.addRecord(segment, batch.records[0]!);
 * const reader = new SegmentReader(denoFs, index, { read_failures: 0 });
 * assert.equal(reader.load(segment.records)[0]![1][0]!.event, "e");
 * reader.close(segment);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SegmentReader {
  readonly #fs: StoreFs;
  readonly #index: StoreIndex;
  readonly #damage: { read_failures: number };
  /** Segments with a cached read handle, least recently used first. */
  readonly #cached = new Set<SegmentEntry>();

  /** Reads `index`'s records through `fs`, counting records found damaged into `damage`. */
  constructor(fs: StoreFs, index: StoreIndex, damage: { read_failures: number }) {
    this.#fs = fs;
    this.#index = index;
    this.#damage = damage;
  }

  /**
   * Reads and decodes records (given in file order), fetching neighbours with
   * one read. Records found damaged are skipped and counted; records of a
   * segment removed meanwhile are skipped.
   */
  load(refs: readonly IndexedRecord[]): [IndexedRecord, LogEvent[]][] {
    const loaded: [IndexedRecord, LogEvent[]][] = [];
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

  /**
   * The segment's open handle, opening one to read if needed; null when the
   * file is gone (the segment is then dropped from the index).
   */
  fileOf(segment: SegmentEntry): StoreFile | null {
    if (segment.file !== null) {
      if (this.#cached.delete(segment)) this.#cached.add(segment);
      return segment.file;
    }
    if (this.#cached.size >= MAX_READ_FILES) {
      const [oldest] = this.#cached;
      this.close(oldest!);
    }
    try {
      segment.file = this.#fs.open(segment.path, "read");
    } catch (error) {
      if (this.#fs.isNotFound(error)) {
        this.forget(segment);
        return null;
      }
      throw new StoreReadError(`Could not open ${segment.path}`, error);
    }
    this.#cached.add(segment);
    return segment.file;
  }

  /** Closes a segment's handle, if it has one. */
  close(segment: SegmentEntry): void {
    this.#cached.delete(segment);
    const file = segment.file;
    segment.file = null;
    file?.close();
  }

  /** Drops a segment whose file is gone (removed by a writer's retention) from the index. */
  forget(segment: SegmentEntry): void {
    try {
      this.close(segment);
    } finally {
      this.#index.removeSegment(segment);
    }
  }

  #readRange(segment: SegmentEntry, start: number, end: number): Uint8Array | null {
    const file = this.fileOf(segment);
    if (file === null) return null;
    const bytes = new Uint8Array(end - start);
    try {
      return bytes.subarray(0, file.read(start, bytes));
    } catch (error) {
      throw new StoreReadError(`Could not read ${segment.path}`, error);
    }
  }
}

function decodeRecord(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  ref: IndexedRecord,
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
