/**
 * What a reader makes of a segment file's header: whether its records are
 * read, and from where. Every reader of segment files (the store, the CLI's
 * readers and `verify`) applies this one rule, as it applies
 * `segment_gaps.ts` for the segments missing between them.
 *
 * @module
 */
import {
  declaredHeaderSize,
  decodeFileHeader,
  type FileHeader,
  isReadableVersion,
} from "./segment_format.ts";

/** A segment file's header, as {@linkcode readSegmentHead} tells it. */
export type SegmentHead =
  /** The newest segment, shorter than its header: being created, or cut short by a crash then. */
  | { kind: "unfinished" }
  /** A damaged header (magic, size or CRC): the records are read all the same, from `start`. */
  | { kind: "damaged"; start: number }
  /** A header of a format version this module does not read: the file is ignored. */
  | { kind: "unsupported"; header: FileHeader }
  /** A header naming another segment number: a copy, ignored. */
  | { kind: "copy"; header: FileHeader }
  /** An intact header: the records start at `start`. */
  | { kind: "intact"; header: FileHeader; start: number };

/**
 * Reads the header of segment file `number` (`newest`: the last one of the
 * directory, which a live writer may be creating).
 *
 * @example A file that is not a segment of this store
 * ```ts
 * import { readSegmentHead } from "./segment_head.ts";
 * import { encodeFileHeader } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * const link = { previous: 0, previousBytes: 0, previousEvents: 0, firstSeq: 1 };
 * const bytes = encodeFileHeader({ segment: 7, createdMs: 0, writerId: new Uint8Array(8), link });
 * assert.equal(readSegmentHead(bytes, 7, false).kind, "intact");
 * assert.equal(readSegmentHead(bytes, 8, false).kind, "copy");
 * assert.equal(readSegmentHead(bytes.subarray(0, 20), 9, true).kind, "unfinished");
 * assert.equal(readSegmentHead(bytes.subarray(0, 20), 9, false).kind, "damaged");
 * ```
 */
export function readSegmentHead(bytes: Uint8Array, number: number, newest: boolean): SegmentHead {
  if (newest && bytes.length < declaredHeaderSize(bytes)) return { kind: "unfinished" };
  const header = decodeFileHeader(bytes);
  if (header === null) {
    return { kind: "damaged", start: Math.min(bytes.length, declaredHeaderSize(bytes)) };
  }
  if (!isReadableVersion(header.version)) return { kind: "unsupported", header };
  if (header.segment !== number) return { kind: "copy", header };
  return { kind: "intact", header, start: header.size };
}
