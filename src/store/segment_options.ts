/**
 * The options of the segment-file store ({@linkcode SegmentStoreOptions})
 * and their validation.
 *
 * @module
 */
import { denoFs } from "./_fs_deno.ts";
import type { StoreFs } from "./fs.ts";
import type { RecordExtent } from "./record.ts";

/** Options of `SegmentStore.open()`. */
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
   * writer. Call `SegmentStore.refresh()` to see what it appended since.
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * The caller already holds the directory's lock for this process (taken
   * with `lockStoreDir()`): open as the writer without taking it.
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
  onEvict?: (records: readonly RecordExtent[]) => void;
}

/** {@linkcode SegmentStoreOptions} with every default applied. */
export interface ResolvedSegmentStoreOptions {
  segmentBytes: number;
  maxBytes: number;
  maxAgeMs: number;
  readOnly: boolean;
  lockHeld: boolean;
  appendToLast: boolean;
  clock: () => number;
  fs: StoreFs;
  onEvict: ((records: readonly RecordExtent[]) => void) | null;
}

/**
 * Applies this store's defaults. Sizes come checked by `resolveStoreOptions()`
 * (src/store/options.ts) on the logger's thread, so the worker never checks
 * them again; the defaults are this store's own.
 *
 * @example The defaults
 * ```ts
 * import { resolveSegmentStoreOptions } from "./segment_options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(resolveSegmentStoreOptions({}).segmentBytes, 8388608);
 * ```
 */
export function resolveSegmentStoreOptions(
  options: SegmentStoreOptions,
): ResolvedSegmentStoreOptions {
  const segmentBytes = options.segmentBytes ?? 8 * 1024 * 1024;
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  const maxAgeMs = options.maxAgeMs ?? 7 * 24 * 60 * 60 * 1000;
  const clock = options.clock ?? Date.now;
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
