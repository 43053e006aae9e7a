/**
 * Reads a store directory's records straight from its segment files, in
 * storage order, without building an index: for exports, which read
 * everything once. Tolerates a live writer (an unfinished last record is
 * not damage) and skips damage the way {@linkcode SegmentStore} does,
 * counting it.
 *
 * @module
 */
import { scanRecords } from "../store/record_scanner.ts";
import {
  decodeFileHeader,
  FILE_HEADER_SIZE,
  FORMAT_VERSION,
  parseSegmentFileName,
} from "../store/segment_format.ts";

/** One intact record. */
export interface StoreRecord {
  /** File name of its segment. */
  segment: string;
  /** Offset of the record in the segment file. */
  offset: number;
  /** The flow id, or null. */
  flowId: string | null;
  /** Events in the record. */
  eventCount: number;
  /** Events at error level or above. */
  errorCount: number;
  /** Highest severity. */
  maxSeverity: number;
  /** Smallest `ts_ms`. */
  minTs: number;
  /** Largest `ts_ms`. */
  maxTs: number;
  /** The msgpack payload (a view into the segment's bytes). */
  payload: Uint8Array;
}

/** Damage skipped while reading. */
export interface ReadDamage {
  /** Damaged byte regions skipped inside segments. */
  regions: number;
  /** Their bytes. */
  bytes: number;
  /** Segment files skipped whole: another format version, or a copy of another segment. */
  skipped_segments: number;
  /** Segment files whose header is damaged (their records are still read). */
  bad_file_headers: number;
}

/** Segment file names of `dir`, in segment order. Throws what `Deno.readDirSync` throws. */
export function segmentFileNames(dir: string): string[] {
  const found: [number, string][] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const number = parseSegmentFileName(entry.name);
    if (number !== null && entry.isFile) found.push([number, entry.name]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, name]) => name);
}

/**
 * Yields every intact record of the store in `dir`, segment by segment, and
 * adds what it skips to `damage`. A segment removed meanwhile by the
 * writer's retention is passed over; a damaged region at the end of the
 * newest segment is left uncounted, as it may be a record being written.
 *
 * @example Read a store's records
 * ```ts
 * import { readStoreRecords } from "./store_reader.ts";
 * import { SegmentStore } from "../store/segment_store.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const store = SegmentStore.open(dir);
 * store.append([{ ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: { flow_id: "f" } }]);
 * store.close();
 * const damage = { regions: 0, bytes: 0, skipped_segments: 0, bad_file_headers: 0 };
 * const records = [...readStoreRecords(dir, damage)];
 * assert.deepEqual(records.map((r) => [r.flowId, r.eventCount]), [["f", 1]]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function* readStoreRecords(dir: string, damage: ReadDamage): Generator<StoreRecord> {
  const names = segmentFileNames(dir);
  let lastSeq = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const newest = i === names.length - 1;
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(`${dir}/${name}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    if (newest && bytes.length < FILE_HEADER_SIZE) continue;
    const header = decodeFileHeader(bytes);
    if (header === null) {
      damage.bad_file_headers++;
    } else if (
      header.version !== FORMAT_VERSION || header.segment !== parseSegmentFileName(name)
    ) {
      damage.skipped_segments++;
      continue;
    }
    const result = scanRecords(bytes, {
      start: Math.min(bytes.length, FILE_HEADER_SIZE),
      afterSeq: lastSeq,
      countTail: !newest,
    });
    damage.regions += result.damage.regions;
    damage.bytes += result.damage.bytes;
    lastSeq = result.lastSeq;
    for (const record of result.records) {
      yield {
        segment: name,
        offset: record.start,
        flowId: record.flowId,
        eventCount: record.eventCount,
        errorCount: record.errorCount,
        maxSeverity: record.maxSeverity,
        minTs: record.minTs,
        maxTs: record.maxTs,
        payload: bytes.subarray(record.payloadStart, record.end),
      };
    }
  }
}
