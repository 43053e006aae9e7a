/**
 * The on-disk format of a flightlog store. This comment is the one description
 * of the format; `tests/store/segment_format_test.ts` pins every value below.
 *
 * A store directory holds append-only segment files named
 * `seg-<16 lowercase hex digits>.flog` (the segment number) and a `lock` file
 * that the writer holds locked. All integers are little-endian; `u64` fields
 * hold integers below 2^53.
 *
 * ## The lock
 *
 * One process writes a store: the `lock` file carries an exclusive advisory
 * lock (`flock`) and names its holder; another process (or another open of
 * the directory) that tries to write gets a `StoreLockedError`. A logger's
 * thread takes the lock (`lockStoreDir()`) before it starts its worker and
 * keeps it until `close()`: the thread outlives every worker, and a worker
 * that hangs in an endless loop cannot be stopped under Deno 2.9.6 (its
 * thread, and so any file it opened, lives until the process exits). The
 * worker opens the store with `lockHeld`; a worker that replaces a dead or
 * hung one also opens it with `appendToLast: false`, so it never appends to
 * a segment the old one may still be writing: it begins a new segment, and
 * a tail the old one leaves torn is found by the record checksums like any
 * other damage (src/ring.ts "Worker restart").
 *
 * ## File header (48 bytes at offset 0)
 *
 * | offset | size | field          | value                                                 |
 * | -----: | ---: | -------------- | ----------------------------------------------------- |
 * |      0 |    8 | magic          | `89 46 4C 4F 47 0D 0A 1A` (`"\x89FLOG\r\n\x1A"`)      |
 * |      8 |    2 | format version | u16 = {@linkcode FORMAT_VERSION} (2)                  |
 * |     10 |    2 | header size    | u16 = {@linkcode FILE_HEADER_SIZE} (48)               |
 * |     12 |    4 | reserved       | 0                                                     |
 * |     16 |    8 | segment number | u64, the number in the file name                      |
 * |     24 |    8 | created at     | f64, epoch ms from the store's clock                  |
 * |     32 |    8 | writer id      | 8 random bytes drawn when the writer opened the store |
 * |     40 |    4 | reserved       | 0                                                     |
 * |     44 |    4 | header CRC     | u32 CRC32C (Castagnoli) of bytes 0–43                 |
 *
 * The magic's first byte is not ASCII and its `\r\n\x1A` tail catches newline
 * translation and truncation by text tools, as in PNG.
 *
 * ## Record (48 + flow_len + payload_len bytes; records follow the header back to back)
 *
 * | offset | size | field        | value                                                       |
 * | -----: | ---: | ------------ | ----------------------------------------------------------- |
 * |      0 |    4 | magic        | `C1 F7 0B 9A` ({@linkcode RECORD_MAGIC})                    |
 * |      4 |    4 | payload_len  | u32, 1 to {@linkcode MAX_PAYLOAD_BYTES}                     |
 * |      8 |    4 | CRC          | u32 CRC32C of bytes 12 to the end of the payload            |
 * |     12 |    2 | flow_len     | u16, UTF-8 bytes of the flow id (0 without a flow)          |
 * |     14 |    1 | flags        | bit 0 = {@linkcode FLAG_HAS_FLOW}; bits 1–7 are 0           |
 * |     15 |    1 | max severity | u8, highest `severity` of the events (0 if none is numeric) |
 * |     16 |    8 | seq          | u64, store-wide record sequence number, strictly increasing |
 * |     24 |    4 | event count  | u32, ≥ 1                                                    |
 * |     28 |    4 | error count  | u32, events with `severity` ≥ 17 (`SEVERITY.error`)         |
 * |     32 |    8 | min ts_ms    | f64, smallest `ts_ms` (+Infinity if none is a number)       |
 * |     40 |    8 | max ts_ms    | f64, largest `ts_ms` (-Infinity if none is a number)        |
 * |     48 |    n | flow id      | flow_len bytes of well-formed UTF-8                         |
 * | 48 + n |    p | payload      | payload_len bytes, see below                                |
 *
 * Every event of a record has the same flow id (a string `fields.flow_id`) or
 * none, so the header alone is enough to rebuild the index and to pick the
 * records of one flow.
 *
 * The record magic starts with `0xC1`, the one byte MessagePack never uses, and
 * its other bytes are not printable ASCII, so text fields rarely contain it.
 * After damage a reader searches for the next magic and accepts a candidate
 * only if its lengths fit and its CRC matches, so a damaged length can never
 * join two records.
 *
 * ## Payload
 *
 * The payload is one msgpackr value, `[bindings, events]`, packed with the
 * record extension and no shared structures, so every record structure it
 * uses is defined inside the record and any record decodes on its own:
 *
 * - `bindings`: an array of objects, each the bindings of one child logger
 *   that logged into this record, written once however many of its events
 *   the record holds;
 * - `events`: one array per event, `[ts_ms, severity, event, producer, seq,
 *   b, fields]`, where `b` indexes `bindings` (-1 for none) and `fields` are
 *   the call's own fields. The event's full `fields` are the bindings' keys
 *   followed by the call's (a call field overrides a binding of the same
 *   name), and its `level` is derived from `severity`.
 *
 * Writing each set of bindings once per record halves the packing work for
 * the typical event with seven bound ids (bench/store_bench.ts "pack"). Bigints beyond 64 bits use msgpackr's bigint extension (type
 * `0x42`), `undefined` its extension 0, `Date` the MessagePack timestamp.
 * flightlog adds two tag extensions (msgpackr `0xD4 <type> 0x00` followed by
 * a value) and one string extension (a MessagePack ext of that type whose
 * data are the bytes) for what msgpackr would change:
 *
 * | type | constant                      | stands for                                 | value                 |
 * | ---: | ----------------------------- | ------------------------------------------ | --------------------- |
 * | 0x2D | {@linkcode EXT_NEGATIVE_ZERO} | the number -0 (msgpackr writes 0)          | `0`                   |
 * | 0x5F | {@linkcode EXT_OWN_PROTO_KEY} | an object with an own `__proto__` key or a | `[key, value, ...]`   |
 * |      |                               | key that needs `0x57`                      |                       |
 * | 0x57 | {@linkcode EXT_WTF8_STRING}   | a string with a lone surrogate or a        | ext data: WTF-8 bytes |
 * |      |                               | leading U+FEFF (value, key of `0x5F`,      | (`src/wtf8.ts`)       |
 * |      |                               | event name or producer id)                 |                       |
 *
 * (msgpackr would rename an own `__proto__` key to `__proto_` on unpack; a
 * lone surrogate would come back as U+FFFD, since MessagePack strings are
 * UTF-8; and msgpackr's TextDecoder drops a leading U+FEFF from a string of
 * more than 64 bytes.) The worker finds such strings in the events it
 * decodes from the rings (`payload_codec.ts`), so the MessagePack strings of
 * the payloads it writes are well-formed UTF-8. A payload of well-formed
 * strings that do not start with U+FEFF holds no `0x57` and is byte for byte
 * what it was before `0x57` existed; a reader that does not know `0x57` can
 * still skip it like any extension.
 *
 * @module
 */
import CRC32C from "crc-32/crc32c.js";

/** Format version written in every file header. */
export const FORMAT_VERSION = 2;

/** Bytes of the file header. */
export const FILE_HEADER_SIZE = 48;

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
  crc: 44,
} as const;

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

/** The fields of a segment file header. */
export interface FileHeader {
  /** Format version. */
  version: number;
  /** Segment number. */
  segment: number;
  /** Creation time, epoch ms. */
  createdMs: number;
  /** Id of the writer that created the segment. */
  writerId: Uint8Array;
}

/**
 * Encodes a file header.
 *
 * @example Encode and decode a header
 * ```ts
 * import { decodeFileHeader, encodeFileHeader, FILE_HEADER_SIZE } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeFileHeader({ segment: 3, createdMs: 1_700_000_000_000, writerId: new Uint8Array(8) });
 * assert.equal(bytes.length, FILE_HEADER_SIZE);
 * assert.equal(decodeFileHeader(bytes)?.segment, 3);
 * ```
 */
export function encodeFileHeader(
  header: { segment: number; createdMs: number; writerId: Uint8Array },
): Uint8Array {
  const bytes = new Uint8Array(FILE_HEADER_SIZE);
  const view = new DataView(bytes.buffer);
  bytes.set(FILE_MAGIC, FILE_HEADER.magic);
  view.setUint16(FILE_HEADER.version, FORMAT_VERSION, true);
  view.setUint16(FILE_HEADER.headerSize, FILE_HEADER_SIZE, true);
  setU64(view, FILE_HEADER.segment, header.segment);
  view.setFloat64(FILE_HEADER.createdMs, header.createdMs, true);
  bytes.set(header.writerId.subarray(0, WRITER_ID_SIZE), FILE_HEADER.writerId);
  view.setUint32(FILE_HEADER.crc, crc32c(bytes.subarray(0, FILE_HEADER.crc)), true);
  return bytes;
}

/**
 * Decodes a file header, or returns `null` when the bytes are not an intact
 * one (short, wrong magic, wrong size field or CRC mismatch). A header of
 * another format version decodes, so the caller can tell "unsupported" from
 * "damaged".
 *
 * @example Reject a damaged header
 * ```ts
 * import { decodeFileHeader, encodeFileHeader } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeFileHeader({ segment: 1, createdMs: 0, writerId: new Uint8Array(8) });
 * bytes[20]! ^= 1;
 * assert.equal(decodeFileHeader(bytes), null);
 * ```
 */
export function decodeFileHeader(bytes: Uint8Array): FileHeader | null {
  if (bytes.length < FILE_HEADER_SIZE) return null;
  for (let i = 0; i < FILE_MAGIC.length; i++) {
    if (bytes[i] !== FILE_MAGIC[i]) return null;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, FILE_HEADER_SIZE);
  if (view.getUint16(FILE_HEADER.headerSize, true) !== FILE_HEADER_SIZE) return null;
  if (view.getUint32(FILE_HEADER.crc, true) !== crc32c(bytes.subarray(0, FILE_HEADER.crc))) {
    return null;
  }
  const segment = getU64(view, FILE_HEADER.segment);
  if (segment < 0) return null;
  return {
    version: view.getUint16(FILE_HEADER.version, true),
    segment,
    createdMs: view.getFloat64(FILE_HEADER.createdMs, true),
    writerId: bytes.slice(FILE_HEADER.writerId, FILE_HEADER.writerId + WRITER_ID_SIZE),
  };
}

/** The summary fields of a record header. */
export interface RecordSummary {
  /** Store-wide record sequence number. */
  seq: number;
  /** Events in the record. */
  eventCount: number;
  /** Events with `severity` ≥ 17. */
  errorCount: number;
  /** Highest severity, 0–255. */
  maxSeverity: number;
  /** Smallest `ts_ms`. */
  minTs: number;
  /** Largest `ts_ms`. */
  maxTs: number;
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
