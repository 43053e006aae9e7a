/**
 * Finding a segment missing between two surviving ones, by the rule in
 * docs/internals.md "Gaps": every reader of segment files (the store, the
 * CLI's readers and `verify`) applies it the same way.
 *
 * @module
 */
import type { SegmentLink } from "./segment_format.ts";

/** A hole between two surviving segments. */
export interface SegmentGap {
  /** Number of the nearest older segment that was read. */
  after: number;
  /** Number of the segment whose header names the missing one. */
  before: number;
  /** Number of the missing segment that header names. */
  missing: number;
  /**
   * True when numbers between `after` and `missing` are free too: those
   * segments may be missing as well (or were never created), and are not in
   * `events` or `bytes`.
   */
  more: boolean;
  /** Records missing: the seqs between the last record read and `before`'s first (an upper bound). */
  records: number;
  /** Events `missing` held when `before` was begun. */
  events: number;
  /** Bytes of `missing` when `before` was begun. */
  bytes: number;
}

/** Gaps found, as a store or a reader counts them. */
export interface GapCounts {
  /** Holes between surviving segments. */
  gaps: number;
  /** Records missing in them (from sequence numbers, an upper bound). */
  gap_records: number;
  /** Events of the missing segments their successors name. */
  gap_events: number;
  /** Bytes of those segments. */
  gap_bytes: number;
}

/**
 * Returns the gap before segment `number`, or null when there is none.
 * `link` is its header's link (null for a version 2 or damaged header: no
 * gap can be told), `after` the number of the nearest older segment read
 * (null when none was), `listed` the segment numbers of the directory
 * listing being walked, `lastSeq` the highest record seq read so far.
 *
 * @example Segment 2 of 1, 2, 3 was deleted
 * ```ts
 * import { findGap } from "./segment_gaps.ts";
 * import assert from "node:assert/strict";
 * const link = { previous: 2, previousBytes: 4096, previousEvents: 81, firstSeq: 41 };
 * const gap = findGap(3, link, 1, new Set([1, 3]), 20);
 * assert.equal(gap?.missing, 2);
 * assert.equal(gap?.records, 20);
 * assert.equal(findGap(3, link, null, new Set([3]), 0), null); // retention took 1 and 2
 * ```
 */
export function findGap(
  number: number,
  link: SegmentLink | null,
  after: number | null,
  listed: ReadonlySet<number>,
  lastSeq: number,
): SegmentGap | null {
  if (link === null || after === null) return null;
  const missing = link.previous;
  if (missing <= after || missing >= number || listed.has(missing)) return null;
  let listedBetween = 0;
  for (const n of listed) if (n > after && n < missing) listedBetween++;
  return {
    after,
    before: number,
    missing,
    more: listedBetween < missing - after - 1,
    records: Math.max(0, link.firstSeq - 1 - lastSeq),
    events: link.previousEvents,
    bytes: link.previousBytes,
  };
}

/** Adds `gap` to `counts`. */
export function countGap(counts: GapCounts, gap: SegmentGap): void {
  counts.gaps++;
  counts.gap_records += gap.records;
  counts.gap_events += gap.events;
  counts.gap_bytes += gap.bytes;
}
