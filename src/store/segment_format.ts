/**
 * The on-disk format of a flightlog store: append-only segment files of
 * checksummed records (docs/internals.md "Segment files", from "Store
 * directory" to "Decoding a segment"); `tests/store/segment_format_test.ts`
 * and `tests/docs/internals_test.ts` pin every value below.
 *
 * @module
 */
import CRC32C from "crc-32/crc32c.js";
import type { RecordSummary } from "../query/record.ts";

/** Format version written in every file header. */
export const FORMAT_VERSION = 3;

/** Bytes of the file header. */
export const FILE_HEADER_SIZE = 80;

/** The previous format version, still read (docs/internals.md "File header"). */
export const FORMAT_VERSION_2 = 2;

/** Bytes of a version 2 file header. */
export const FILE_HEADER_SIZE_V2 = 48;

/** First 8 bytes of every segment file. */
export const FILE_MAGIC: Readonly<Uint8Array> = Uint8Array.of(
  0x89,
  0x46,
  0x4c,
  0x4f,
  0x47,
  0x0d,
  0x0a,
  0x1a,
);

/** Byte offsets of the file header fields. */
export const FILE_HEADER = {
  magic: 0,
  version: 8,
  headerSize: 10,
  segment: 16,
  createdMs: 24,
  writerId: 32,
  previous: 40,
  previousBytes: 48,
  previousEvents: 56,
  firstSeq: 64,
  crc: 76,
} as const;

/** Largest header size a file of an unknown version may declare and still be recognized. */
const MAX_FILE_HEADER_SIZE = 4096;

/** Bytes of the writer id in the file header. */
export const WRITER_ID_SIZE = 8;

/** First 4 bytes of every record, read as a little-endian u32 (bytes `C1 F7 0B 9A`). */
export const RECORD_MAGIC = 0x9a0bf7c1;

/** Bytes of the fixed part of a record header (the flow id follows it). */
export const RECORD_HEADER_SIZE = 48;

/** Byte offsets of the record header fields. */
export const RECORD_HEADER = {
  magic: 0,
  payloadLength: 4,
  crc: 8,
  flowLength: 12,
  flags: 14,
  maxSeverity: 15,
  seq: 16,
  eventCount: 24,
  errorCount: 28,
  minTs: 32,
  maxTs: 40,
  flowId: 48,
} as const;

/** First byte covered by the record CRC. */
export const RECORD_CRC_START = 12;

/** Record flag: the record belongs to a flow, whose id follows the fixed header. */
export const FLAG_HAS_FLOW = 1;

/** Largest accepted payload. A longer length field is damage, rejected before any allocation. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

/** Largest flow id in UTF-8 bytes (the flow_len field is a u16). */
export const MAX_FLOW_ID_BYTES = 0xffff;

/**
 * Longest string (in UTF-16 code units) taken as a flow id: any such string
 * fits {@linkcode MAX_FLOW_ID_BYTES} once encoded, so no event needs encoding
 * to be classified.
 */
export const MAX_FLOW_ID_LENGTH: number = Math.floor(MAX_FLOW_ID_BYTES / 3);

/** msgpackr extension type standing for the number -0. */
export const EXT_NEGATIVE_ZERO = 0x2d;

/** msgpackr extension type standing for an object with an own `__proto__` key (or a key that needs {@linkcode EXT_WTF8_STRING}). */
export const EXT_OWN_PROTO_KEY = 0x5f;

/** MessagePack extension type of a string with a lone surrogate or a leading U+FEFF: its WTF-8 bytes. */
export const EXT_WTF8_STRING = 0x57;

/** Name of the lock file the writer holds in the store directory. */
export const LOCK_FILE_NAME = "lock";

const SEGMENT_NAME = /^seg-([0-9a-f]{16})\.flog$/;
const TWO_32 = 2 ** 32;

/**
 * Returns the file name of a segment.
 *
 * @example Name segment 26
 * ```ts
 * import { segmentFileName } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(segmentFileName(26), "seg-000000000000001a.flog");
 * ```
 */
export function segmentFileName(segment: number): string {
  return `seg-${segment.toString(16).padStart(16, "0")}.flog`;
}

/**
 * Returns the segment number of a segment file name, or `null` when the name
 * is not one (or its number does not fit a safe integer).
 *
 * @example Parse a directory entry
 * ```ts
 * import { parseSegmentFileName } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseSegmentFileName("seg-000000000000001a.flog"), 26);
 * assert.equal(parseSegmentFileName("lock"), null);
 * ```
 */
export function parseSegmentFileName(name: string): number | null {
  const match = SEGMENT_NAME.exec(name);
  if (match === null) return null;
  const segment = parseInt(match[1]!, 16);
  return Number.isSafeInteger(segment) ? segment : null;
}

/**
 * Returns true when `value` is taken as a flow id: a well-formed string of at
 * most {@linkcode MAX_FLOW_ID_LENGTH} code units (so it encodes to UTF-8 and
 * back unchanged, and fits the header). Events whose `fields.flow_id` is
 * anything else are stored as events without a flow.
 *
 * @example Classify flow ids
 * ```ts
 * import { isFlowId } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isFlowId("checkout-42"));
 * assert.ok(!isFlowId(42));
 * assert.ok(!isFlowId("\uD800"));
 * ```
 */
export function isFlowId(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_FLOW_ID_LENGTH && value.isWellFormed();
}

/**
 * Where a segment stands in the store's history, from its header (version
 * 3): what a reader needs to find a gap before it (docs/internals.md "Gaps").
 */
export interface SegmentLink {
  /** Number of the store's newest segment when this one was begun (0: there was none). */
  previous: number;
  /** That segment's size in bytes then. */
  previousBytes: number;
  /** Events in its intact records then. */
  previousEvents: number;
  /** Sequence number this segment's first record gets (the store's last one + 1). */
  firstSeq: number;
}

/** The fields of a segment file header. */
export interface FileHeader {
  /** Format version. */
  version: number;
  /** Bytes of the header: records start here. */
  size: number;
  /** Segment number. */
  segment: number;
  /** Creation time, epoch ms. */
  createdMs: number;
  /** Id of the writer that created the segment. */
  writerId: Uint8Array;
  /** The segment's place in the store's history; null in a header of version 2 or an unknown one. */
  link: SegmentLink | null;
}

/**
 * Encodes a file header of the current version.
 *
 * @example Encode and decode a header
 * ```ts
 * import { decodeFileHeader, encodeFileHeader, FILE_HEADER_SIZE } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeFileHeader({
 *   segment: 3,
 *   createdMs: 1_700_000_000_000,
 *   writerId: new Uint8Array(8),
 *   link: { previous: 2, previousBytes: 4096, previousEvents: 81, firstSeq: 41 },
 * });
 * assert.equal(bytes.length, FILE_HEADER_SIZE);
 * assert.equal(decodeFileHeader(bytes)?.link?.previous, 2);
 * ```
 */
export function encodeFileHeader(
  header: { segment: number; createdMs: number; writerId: Uint8Array; link: SegmentLink },
): Uint8Array {
  const bytes = new Uint8Array(FILE_HEADER_SIZE);
  const view = new DataView(bytes.buffer);
  bytes.set(FILE_MAGIC, FILE_HEADER.magic);
  view.setUint16(FILE_HEADER.version, FORMAT_VERSION, true);
  view.setUint16(FILE_HEADER.headerSize, FILE_HEADER_SIZE, true);
  setU64(view, FILE_HEADER.segment, header.segment);
  view.setFloat64(FILE_HEADER.createdMs, header.createdMs, true);
  bytes.set(header.writerId.subarray(0, WRITER_ID_SIZE), FILE_HEADER.writerId);
  const { link } = header;
  setU64(view, FILE_HEADER.previous, link.previous);
  setU64(view, FILE_HEADER.previousBytes, link.previousBytes);
  setU64(view, FILE_HEADER.previousEvents, link.previousEvents);
  setU64(view, FILE_HEADER.firstSeq, link.firstSeq);
  view.setUint32(FILE_HEADER.crc, crc32c(bytes.subarray(0, FILE_HEADER.crc)), true);
  return bytes;
}

/**
 * Returns true for the format versions this module reads: the current one
 * and version 2.
 *
 * @example
 * ```ts
 * import { isReadableVersion } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isReadableVersion(2) && isReadableVersion(3));
 * assert.ok(!isReadableVersion(1));
 * ```
 */
export function isReadableVersion(version: number): boolean {
  return version === FORMAT_VERSION || version === FORMAT_VERSION_2;
}

/**
 * The header size a segment file's first bytes declare, for where its
 * records start when the header itself is damaged (or not fully written):
 * the size at offset 10 when it is the size of a readable version, else the
 * smallest one, so no record is ever skipped.
 *
 * @example
 * ```ts
 * import { declaredHeaderSize } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(declaredHeaderSize(new Uint8Array(3)), 48);
 * ```
 */
export function declaredHeaderSize(bytes: Uint8Array): number {
  if (bytes.length >= 12) {
    const size = bytes[FILE_HEADER.headerSize]! | (bytes[FILE_HEADER.headerSize + 1]! << 8);
    if (size === FILE_HEADER_SIZE) return FILE_HEADER_SIZE;
  }
  return FILE_HEADER_SIZE_V2;
}

/**
 * Decodes a file header, or returns `null` when the bytes are not an intact
 * one (short, wrong magic, a size field that does not fit the version, CRC
 * mismatch). A header of an unknown version decodes (with `link` null) when
 * its own size and CRC check out, so the caller can tell "unsupported" from
 * "damaged".
 *
 * @example Reject a damaged header
 * ```ts
 * import { decodeFileHeader, encodeFileHeader } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * const link = { previous: 0, previousBytes: 0, previousEvents: 0, firstSeq: 1 };
 * const bytes = encodeFileHeader({ segment: 1, createdMs: 0, writerId: new Uint8Array(8), link });
 * bytes[20]! ^= 1;
 * assert.equal(decodeFileHeader(bytes), null);
 * ```
 */
export function decodeFileHeader(bytes: Uint8Array): FileHeader | null {
  if (bytes.length < FILE_HEADER_SIZE_V2) return null;
  for (let i = 0; i < FILE_MAGIC.length; i++) {
    if (bytes[i] !== FILE_MAGIC[i]) return null;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(FILE_HEADER.version, true);
  const size = view.getUint16(FILE_HEADER.headerSize, true);
  const expected = version === FORMAT_VERSION
    ? FILE_HEADER_SIZE
    : version === FORMAT_VERSION_2
    ? FILE_HEADER_SIZE_V2
    : null;
  if (expected === null) {
    if (size < FILE_HEADER_SIZE_V2 || size > MAX_FILE_HEADER_SIZE || size % 4 !== 0) return null;
  } else if (size !== expected) {
    return null;
  }
  if (bytes.length < size) return null;
  if (view.getUint32(size - 4, true) !== crc32c(bytes.subarray(0, size - 4))) return null;
  const segment = getU64(view, FILE_HEADER.segment);
  if (segment < 0) return null;
  let link: SegmentLink | null = null;
  if (version === FORMAT_VERSION) {
    link = {
      previous: getU64(view, FILE_HEADER.previous),
      previousBytes: getU64(view, FILE_HEADER.previousBytes),
      previousEvents: getU64(view, FILE_HEADER.previousEvents),
      firstSeq: getU64(view, FILE_HEADER.firstSeq),
    };
    // Out-of-range fields under a matching CRC mean a writer bug: the header is not trusted.
    if (
      link.previous < 0 || link.previousBytes < 0 || link.previousEvents < 0 || link.firstSeq < 1
    ) {
      return null;
    }
  }
  return {
    version,
    size,
    segment,
    createdMs: view.getFloat64(FILE_HEADER.createdMs, true),
    writerId: bytes.slice(FILE_HEADER.writerId, FILE_HEADER.writerId + WRITER_ID_SIZE),
    link,
  };
}

/**
 * Returns the total size of a record.
 *
 * @example Size of a record without a flow
 * ```ts
 * import { recordSize, RECORD_HEADER_SIZE } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(recordSize(0, 10), RECORD_HEADER_SIZE + 10);
 * ```
 */
export function recordSize(flowBytes: number, payloadBytes: number): number {
  return RECORD_HEADER_SIZE + flowBytes + payloadBytes;
}

/**
 * Writes one framed record at `at` and returns the offset after it. `flowId`
 * is the UTF-8 flow id, or `null` for a record without a flow. The caller
 * sizes `target` with {@linkcode recordSize}.
 *
 * @example Frame a record and check its magic
 * ```ts
 * import { RECORD_MAGIC, recordSize, writeRecord } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * const payload = Uint8Array.of(0x90);
 * const target = new Uint8Array(recordSize(0, payload.length));
 * const view = new DataView(target.buffer);
 * const summary = { seq: 1, eventCount: 1, errorCount: 0, maxSeverity: 9, minTs: 0, maxTs: 0 };
 * assert.equal(writeRecord(target, view, 0, summary, null, payload), target.length);
 * assert.equal(view.getUint32(0, true), RECORD_MAGIC);
 * ```
 */
export function writeRecord(
  target: Uint8Array,
  view: DataView,
  at: number,
  summary: RecordSummary,
  flowId: Uint8Array | null,
  payload: Uint8Array,
): number {
  const flowLength = flowId === null ? 0 : flowId.length;
  const payloadAt = at + RECORD_HEADER_SIZE + flowLength;
  const end = payloadAt + payload.length;
  view.setUint32(at + RECORD_HEADER.magic, RECORD_MAGIC, true);
  view.setUint32(at + RECORD_HEADER.payloadLength, payload.length, true);
  view.setUint16(at + RECORD_HEADER.flowLength, flowLength, true);
  target[at + RECORD_HEADER.flags] = flowId === null ? 0 : FLAG_HAS_FLOW;
  target[at + RECORD_HEADER.maxSeverity] = summary.maxSeverity;
  setU64(view, at + RECORD_HEADER.seq, summary.seq);
  view.setUint32(at + RECORD_HEADER.eventCount, summary.eventCount, true);
  view.setUint32(at + RECORD_HEADER.errorCount, summary.errorCount, true);
  view.setFloat64(at + RECORD_HEADER.minTs, summary.minTs, true);
  view.setFloat64(at + RECORD_HEADER.maxTs, summary.maxTs, true);
  if (flowId !== null) target.set(flowId, at + RECORD_HEADER.flowId);
  target.set(payload, payloadAt);
  view.setUint32(
    at + RECORD_HEADER.crc,
    crc32c(target.subarray(at + RECORD_CRC_START, end)),
    true,
  );
  return end;
}

/**
 * Returns the unsigned CRC32C (Castagnoli) of `bytes`, continuing from
 * `seed` when given.
 *
 * @example The standard check value
 * ```ts
 * import { crc32c } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
 * ```
 */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  return CRC32C.buf(bytes, seed) >>> 0;
}

// Both loops of the library's crc32_buf (16 bytes at a time, then the tail)
// run once before any record: optimized on big records alone, it deoptimized
// again and again on "insufficient type feedback" for the tail loop
// (--trace-deopt under deno task gate).
for (let n = 0; n < 48; n++) crc32c(new Uint8Array(n));

/** Writes an integer below 2^53 as a little-endian u64. */
export function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value >>> 0, true);
  view.setUint32(at + 4, Math.floor(value / TWO_32), true);
}

/** Reads a little-endian u64, or returns -1 when it is 2^53 or more. */
export function getU64(view: DataView, at: number): number {
  const high = view.getUint32(at + 4, true);
  if (high >= 0x200000) return -1;
  return high * TWO_32 + view.getUint32(at, true);
}
