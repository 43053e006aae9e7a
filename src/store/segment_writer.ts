/**
 * Writing a segment store: framed batches appended with one write call,
 * segments begun by size and age, retention before each write, and what
 * `sync()` must flush.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { concatBatches, encodeBatch, type EncodedBatch, framePayloads } from "./batch_encoder.ts";
import type { PackedPayload } from "./record.ts";
import { StoreWriteError } from "./errors.ts";
import type { StoreFile, StoreFs } from "./fs.ts";
import { type EvictionCounts, evictionEvent, Retention } from "./retention.ts";
import { encodeFileHeader, FILE_HEADER_SIZE, segmentFileName } from "./segment_format.ts";
import type { ResolvedSegmentStoreOptions } from "./segment_options.ts";
import type { SegmentReader } from "./segment_reader.ts";
import type { SegmentEntry, StoreIndex } from "./store_index.ts";

// A record's framing besides its payload, at most: header and a flow id.
const FRAME_SLACK = 512;
// The largest framing buffer kept between writes.
const MAX_KEPT_FRAME = 4 << 20;

/** What a {@linkcode SegmentWriter} takes over from the store that scanned the directory. */
export interface WriterStart {
  /** The store directory. */
  dir: string;
  /** The store's resolved options. */
  options: ResolvedSegmentStoreOptions;
  /** The index the scan built; the writer adds to it. */
  index: StoreIndex;
  /** The store's reader, whose handle cache the writer closes sealed segments through. */
  reader: SegmentReader;
  /** The writer's id, stamped into the headers of the segments it begins. */
  writerId: Uint8Array;
  /** Sequence number of the last record seen: the next record gets the one above. */
  lastSeq: number;
  /** Highest segment file number seen, indexed or not: new segments go above it. */
  maxFileNumber: number;
  /** When the store was opened, by its clock. */
  openedMs: number;
}

/**
 * The one writer of a store directory, made by `SegmentStore.open()` once
 * it has scanned the directory under the lock.
 *
 * @example Write after an empty scan
 * ```ts
 * import { denoFs } from "./_fs_deno.ts";
 * import { resolveSegmentStoreOptions } from "./segment_options.ts";
 * import { SegmentReader } from "./segment_reader.ts";
 * import { SegmentWriter } from "./segment_writer.ts";
 * import { StoreIndex } from "./store_index.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const index = new StoreIndex();
 * const writer = new SegmentWriter({
 *   dir, options: resolveSegmentStoreOptions({}), index,
 *   reader: new SegmentReader(denoFs, index, { read_failures: 0 }),
 *   writerId: new Uint8Array(8), lastSeq: 0, maxFileNumber: 0, openedMs: 0,
 * });
 * writer.append([{ ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: {} }]);
 * assert.equal(writer.lastSeq, 1);
 * assert.equal(index.segments.length, 1);
 * index.segments[0]!.file?.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SegmentWriter {
  readonly #dir: string;
  readonly #options: ResolvedSegmentStoreOptions;
  readonly #fs: StoreFs;
  readonly #index: StoreIndex;
  readonly #reader: SegmentReader;
  readonly #writerId: Uint8Array;
  readonly #retention: Retention;
  readonly #openedMs: number;
  #lastSeq: number;
  #maxFileNumber: number;
  /** Sequence number of the store's own events. */
  #internalSeq = 0;
  /** The segment appended to, or null until the next append creates one. */
  #active: SegmentEntry | null = null;
  /** Segments written since the last sync(). */
  readonly #unsynced = new Set<SegmentEntry>();
  #dirUnsynced = false;
  /** Where appendPayloads() frames a batch, kept for the next one. */
  #frame = new Uint8Array(0);

  /** Takes over writing from the scan described by `start`. */
  constructor(start: WriterStart) {
    this.#dir = start.dir;
    this.#options = start.options;
    this.#fs = start.options.fs;
    this.#index = start.index;
    this.#reader = start.reader;
    this.#writerId = start.writerId;
    this.#lastSeq = start.lastSeq;
    this.#maxFileNumber = start.maxFileNumber;
    this.#openedMs = start.openedMs;
    this.#retention = new Retention(start.index, start.options, start.openedMs);
  }

  /** Sequence number of the newest record (or of a failed write's last, never reused). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** What retention removed since the store was opened. */
  get evicted(): EvictionCounts {
    return this.#retention.evicted;
  }

  /**
   * Picks up where the scan left the newest segment, then applies retention:
   * appends to it when asked to and it has room, begins a new one at once
   * when it ends in damage, else the first append begins one.
   */
  resume(appendToLast: boolean): void {
    const last = appendToLast ? this.#index.segments.at(-1) : undefined;
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

  /** Encodes `events` and writes them; see `SegmentStore.append()`. */
  append(events: readonly LogEvent[]): void {
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
   * Frames and writes payloads already packed (`src/store/payload_transcoder.ts`),
   * one record each, in one write.
   */
  appendPayloads(payloads: readonly PackedPayload[]): void {
    let size = 0;
    for (const p of payloads) size += p.payload.length + FRAME_SLACK;
    // One buffer for every batch while it suffices: a fresh one per write costs
    // its zeroing and, where memory is mapped on first touch, its page faults.
    if (this.#frame.length < size && size <= MAX_KEPT_FRAME) {
      this.#frame = new Uint8Array(
        Math.min(MAX_KEPT_FRAME, Math.max(size, 2 * this.#frame.length)),
      );
    }
    this.#commit(framePayloads(payloads, this.#lastSeq + 1, this.#frame), this.#options.clock());
  }

  /** Flushes the segments written since the last call, and the directory after segments came or went. */
  sync(): void {
    try {
      for (const segment of this.#unsynced) {
        segment.file?.sync();
        // A sealed segment's write handle is no longer needed; reads reopen it through the cache.
        if (segment !== this.#active) this.#reader.close(segment);
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
    const evicted = this.#retention.apply(now, incoming, this.#active, this.#removeSegment);
    let write = batch;
    if (evicted !== null) {
      const seq = this.#lastSeq + 1 + (batch?.records.length ?? 0);
      const notice = encodeBatch([evictionEvent({ ...evicted }, now, ++this.#internalSeq)], seq);
      write = batch === null ? notice : concatBatches(batch, notice);
    }
    if (write !== null) this.#write(write, now);
  }

  /** Deletes an evicted segment's file; one already gone is fine. */
  readonly #removeSegment = (segment: SegmentEntry): void => {
    try {
      this.#reader.close(segment);
      this.#fs.remove(segment.path);
    } catch (error) {
      if (!this.#fs.isNotFound(error)) {
        throw new StoreWriteError(
          `Could not remove segment ${segment.path} for retention; check the permissions of ${this.#dir}`,
          error,
        );
      }
    }
    this.#unsynced.delete(segment);
    this.#dirUnsynced = true;
  };

  #write(batch: EncodedBatch, now: number): void {
    const segment = this.#active ?? this.#createSegment(now);
    const file = segment.file!;
    const base = segment.size;
    try {
      file.write(batch.bytes);
    } catch (error) {
      this.#lastSeq += batch.records.length;
      this.#retention.wrote(segment, now);
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
    this.#retention.wrote(segment, now);
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
    this.#retention.wrote(segment, now);
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
}
