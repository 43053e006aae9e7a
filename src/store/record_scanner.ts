/**
 * Reads framed records out of segment bytes, skipping and counting damage.
 *
 * The layout: docs/internals.md "Record header".
 *
 * @module
 */
import type { FramedRecord } from "./record.ts";
import {
  crc32c,
  FLAG_HAS_FLOW,
  getU64,
  MAX_PAYLOAD_BYTES,
  RECORD_CRC_START,
  RECORD_HEADER,
  RECORD_HEADER_SIZE,
  RECORD_MAGIC,
} from "./segment_format.ts";

/**
 * Damage found by a scan.
 *
 * A damaged region is a maximal run of bytes between intact records (or the
 * end of the input) that holds no intact record; it is counted once, under
 * the defect found at its first byte.
 */
export interface ScanDamage {
  /** Damaged regions. */
  regions: number;
  /** Bytes in damaged regions. */
  bytes: number;
  /** Regions that do not start with the record magic. */
  bad_magic: number;
  /** Regions starting with a record whose payload length is 0, too large, or runs past the next intact record. */
  bad_length: number;
  /** Regions starting with a record whose CRC does not match. */
  bad_checksum: number;
  /** Regions starting with a record whose CRC matches but whose header is invalid. */
  bad_header: number;
  /** Regions at the end of the input holding the start of a record cut short. */
  torn_tail: number;
  /** Intact records skipped because their sequence number is not above the previous record's. */
  stale_records: number;
  /** Bytes of the stale records. */
  stale_bytes: number;
}

/** What {@linkcode scanRecords} returns. */
export interface ScanResult {
  /** The intact records, in input order, with strictly increasing `seq`. */
  records: FramedRecord[];
  /** The damage found. */
  damage: ScanDamage;
  /**
   * Offset just past the last intact or stale record, or the start offset
   * when there is none: where a writer may append, and where a reader of a
   * live segment resumes.
   */
  validEnd: number;
  /** Highest sequence number accepted (or `afterSeq` when none was). */
  lastSeq: number;
}

/** Options of {@linkcode scanRecords}. */
export interface ScanOptions {
  /**
   * Offset of the first record.
   * @default {0}
   */
  start?: number;
  /**
   * Sequence number of the last record accepted before this input; records
   * at or below it are stale.
   * @default {0}
   */
  afterSeq?: number;
  /**
   * Whether a damaged region running to the end of the input is counted.
   * A reader of a segment that a live writer may still be appending to
   * passes `false`, and scans again from `validEnd` later.
   * @default {true}
   */
  countTail?: boolean;
  /** Told of each damaged region and stale record as they are found, for a reader that reports them (`verify`). */
  listener?: ScanListener;
}

/** What {@linkcode ScanOptions.listener} is told, in input order. */
export interface ScanListener {
  /**
   * A damaged region `[start, end)`, by the defect at its first byte: `"truncated"`
   * only for a region running to the end of the input (told even when `countTail` is false).
   */
  region(start: number, end: number, defect: RecordDefect): void;
  /** An intact record whose sequence number is not above `lastSeq`, the last one accepted. */
  stale(record: FramedRecord, lastSeq: number): void;
}

/** Returns a zeroed damage count. */
export function emptyDamage(): ScanDamage {
  return {
    regions: 0,
    bytes: 0,
    bad_magic: 0,
    bad_length: 0,
    bad_checksum: 0,
    bad_header: 0,
    torn_tail: 0,
    stale_records: 0,
    stale_bytes: 0,
  };
}

/** Adds every count of `from` to `into`. */
export function addDamage(into: ScanDamage, from: ScanDamage): void {
  into.regions += from.regions;
  into.bytes += from.bytes;
  into.bad_magic += from.bad_magic;
  into.bad_length += from.bad_length;
  into.bad_checksum += from.bad_checksum;
  into.bad_header += from.bad_header;
  into.torn_tail += from.torn_tail;
  into.stale_records += from.stale_records;
  into.stale_bytes += from.stale_bytes;
}

/**
 * Why the bytes at an offset are not an intact record: no record magic, a
 * payload length of 0 or above the maximum, a record running past the input,
 * a CRC mismatch, or an invalid header under a matching CRC.
 */
export type RecordDefect = "magic" | "length" | "truncated" | "checksum" | "header";

const MAGIC_BYTES = [
  RECORD_MAGIC & 0xff,
  (RECORD_MAGIC >>> 8) & 0xff,
  (RECORD_MAGIC >>> 16) & 0xff,
  RECORD_MAGIC >>> 24,
] as const;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads the record at `at`: returns it when intact, else the defect found.
 * Lengths are checked against the input before anything is read or
 * allocated, and the CRC before any other field is trusted.
 *
 * @example Read one record back
 * ```ts
 * import { readRecordAt } from "./record_scanner.ts";
 * import { recordSize, writeRecord } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array(recordSize(0, 1));
 * const summary = { seq: 7, eventCount: 1, errorCount: 0, maxSeverity: 9, minTs: 1, maxTs: 1 };
 * writeRecord(bytes, new DataView(bytes.buffer), 0, summary, null, Uint8Array.of(0x90));
 * const found = readRecordAt(bytes, new DataView(bytes.buffer), 0);
 * assert.equal(typeof found === "string" ? found : found.seq, 7);
 * ```
 */
export function readRecordAt(
  bytes: Uint8Array,
  view: DataView,
  at: number,
): FramedRecord | RecordDefect {
  const remaining = bytes.length - at;
  if (remaining < 4) return isMagicPrefix(bytes, at) ? "truncated" : "magic";
  if (view.getUint32(at + RECORD_HEADER.magic, true) !== RECORD_MAGIC) return "magic";
  if (remaining < RECORD_HEADER_SIZE) return "truncated";
  const payloadLength = view.getUint32(at + RECORD_HEADER.payloadLength, true);
  if (payloadLength === 0 || payloadLength > MAX_PAYLOAD_BYTES) return "length";
  const flowLength = view.getUint16(at + RECORD_HEADER.flowLength, true);
  const size = RECORD_HEADER_SIZE + flowLength + payloadLength;
  if (size > remaining) return "truncated";
  const end = at + size;
  if (
    view.getUint32(at + RECORD_HEADER.crc, true) !==
      crc32c(bytes.subarray(at + RECORD_CRC_START, end))
  ) {
    return "checksum";
  }
  const flags = bytes[at + RECORD_HEADER.flags]!;
  const seq = getU64(view, at + RECORD_HEADER.seq);
  const eventCount = view.getUint32(at + RECORD_HEADER.eventCount, true);
  const errorCount = view.getUint32(at + RECORD_HEADER.errorCount, true);
  if (
    (flags & ~FLAG_HAS_FLOW) !== 0 || (flags === 0 && flowLength !== 0) || seq < 1 ||
    eventCount === 0 || errorCount > eventCount
  ) {
    return "header";
  }
  let flowId: string | null = null;
  if (flags === FLAG_HAS_FLOW) {
    const flowStart = at + RECORD_HEADER.flowId;
    flowId = decodeFlowId(bytes, flowStart, flowStart + flowLength);
    if (flowId === null) return "header";
  }
  return {
    start: at,
    end,
    payloadStart: at + RECORD_HEADER_SIZE + flowLength,
    seq,
    flowId,
    eventCount,
    errorCount,
    maxSeverity: bytes[at + RECORD_HEADER.maxSeverity]!,
    minTs: view.getFloat64(at + RECORD_HEADER.minTs, true),
    maxTs: view.getFloat64(at + RECORD_HEADER.maxTs, true),
  };
}

/**
 * Scans `bytes` for records. Returns exactly the intact records with a
 * sequence number above the previous one; counts everything else as damage
 * and never throws. After damage it resumes at the next record magic whose
 * record is intact, so no record is lost to its damaged neighbour and no two
 * records are ever read as one.
 *
 * @example Scan a segment's records after its header
 * ```ts
 * import { scanRecords } from "./record_scanner.ts";
 * import { recordSize, writeRecord } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array(2 * recordSize(0, 1) + 3);
 * const view = new DataView(bytes.buffer);
 * const summary = { seq: 1, eventCount: 1, errorCount: 0, maxSeverity: 9, minTs: 1, maxTs: 1 };
 * const end = writeRecord(bytes, view, 0, summary, null, Uint8Array.of(0x90));
 * writeRecord(bytes, view, end, { ...summary, seq: 2 }, null, Uint8Array.of(0x90));
 * const result = scanRecords(bytes);
 * assert.deepEqual(result.records.map((r) => r.seq), [1, 2]);
 * assert.equal(result.damage.bad_magic, 1);
 * ```
 */
export function scanRecords(bytes: Uint8Array, options: ScanOptions = {}): ScanResult {
  const start = options.start ?? 0;
  const countTail = options.countTail ?? true;
  const listener = options.listener;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const damage = emptyDamage();
  const records: FramedRecord[] = [];
  let lastSeq = options.afterSeq ?? 0;
  let validEnd = start;
  let regionStart = -1;
  let regionRecordDefect: RecordDefect = "magic";
  let at = start;
  while (at < bytes.length) {
    const found = readRecordAt(bytes, view, at);
    if (typeof found === "string") {
      if (regionStart < 0) {
        regionStart = at;
        regionRecordDefect = found;
      }
      at = nextMagic(bytes, at + 1);
      continue;
    }
    if (regionStart >= 0) {
      const defect = regionRecordDefect === "truncated" ? "length" : regionRecordDefect;
      countRegion(damage, at - regionStart, defect);
      listener?.region(regionStart, at, defect);
      regionStart = -1;
    }
    if (found.seq <= lastSeq) {
      damage.stale_records++;
      damage.stale_bytes += found.end - found.start;
      listener?.stale(found, lastSeq);
    } else {
      records.push(found);
      lastSeq = found.seq;
    }
    validEnd = found.end;
    at = found.end;
  }
  if (regionStart >= 0) {
    if (countTail) countRegion(damage, bytes.length - regionStart, regionRecordDefect);
    listener?.region(regionStart, bytes.length, regionRecordDefect);
  }
  return { records, damage, validEnd, lastSeq };
}

function countRegion(damage: ScanDamage, bytes: number, defect: RecordDefect): void {
  damage.regions++;
  damage.bytes += bytes;
  switch (defect) {
    case "magic":
      damage.bad_magic++;
      break;
    case "length":
      damage.bad_length++;
      break;
    case "truncated":
      damage.torn_tail++;
      break;
    case "checksum":
      damage.bad_checksum++;
      break;
    case "header":
      damage.bad_header++;
      break;
  }
}

/** Offset of the next record magic (or of a magic prefix ending the input) at or after `from`. */
function nextMagic(bytes: Uint8Array, from: number): number {
  let at = from;
  while (true) {
    at = bytes.indexOf(MAGIC_BYTES[0], at);
    if (at < 0) return bytes.length;
    if (isMagicPrefix(bytes, at)) return at;
    at++;
  }
}

/** True when the (up to 4) bytes at `at` equal the start of the record magic. */
function isMagicPrefix(bytes: Uint8Array, at: number): boolean {
  const end = Math.min(at + 4, bytes.length);
  for (let i = at; i < end; i++) {
    if (bytes[i] !== MAGIC_BYTES[i - at]) return false;
  }
  return true;
}

/** Decodes a flow id; ASCII ids (the usual case) skip the TextDecoder call. */
function decodeFlowId(bytes: Uint8Array, start: number, end: number): string | null {
  if (end - start <= 64) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode(...bytes.subarray(start, end));
  }
  try {
    return utf8.decode(bytes.subarray(start, end));
  } catch {
    // Invalid UTF-8 under a matching CRC means a writer bug, reported as a bad header.
    return null;
  }
}
