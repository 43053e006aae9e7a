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
import { countGap, findGap, type GapCounts } from "../store/segment_gaps.ts";
import {
  declaredHeaderSize,
  decodeFileHeader,
  isReadableVersion,
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

/**
 * Damage skipped while reading, and segments found missing between
 * surviving ones (docs/internals.md "Gaps").
 */
export interface ReadDamage extends GapCounts {
  /** Damaged byte regions skipped inside segments. */
  regions: number;
  /** Their bytes. */
  bytes: number;
  /** Of those regions, records cut short at the end of a sealed segment (a crash's torn tail). */
  torn_tails: number;
  /** Segment files skipped whole: another format version, or a copy of another segment. */
  skipped_segments: number;
  /** Segment files whose header is damaged (their records are still read). */
  bad_file_headers: number;
}

/**
 * A zeroed {@linkcode ReadDamage}.
 *
 * @example
 * ```ts
 * import { emptyReadDamage } from "./store_reader.ts";
 * import assert from "node:assert/strict";
 * assert.equal(emptyReadDamage().gaps, 0);
 * ```
 */
export function emptyReadDamage(): ReadDamage {
  return {
    regions: 0,
    bytes: 0,
    torn_tails: 0,
    skipped_segments: 0,
    bad_file_headers: 0,
    gaps: 0,
    gap_records: 0,
    gap_events: 0,
    gap_bytes: 0,
  };
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
 * A segment missing between two read ones is counted as a gap.
 *
 * @example Read a store's records
 * ```ts
 * import { emptyReadDamage, readStoreRecords } from "./store_reader.ts";
 * import { SegmentStore } from "../store/segment_store.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const store = SegmentStore.open(dir);
 * store.append([{ ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: { flow_id: "f" } }]);
 * store.close();
 * const records = [...readStoreRecords(dir, emptyReadDamage())];
 * assert.deepEqual(records.map((r) => [r.flowId, r.eventCount]), [["f", 1]]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function* readStoreRecords(dir: string, damage: ReadDamage): Generator<StoreRecord> {
  const names = segmentFileNames(dir);
  const listed = new Set(names.map((name) => parseSegmentFileName(name)!));
  let lastSeq = 0;
  let after: number | null = null;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const number = parseSegmentFileName(name)!;
    const newest = i === names.length - 1;
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(`${dir}/${name}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    if (newest && bytes.length < declaredHeaderSize(bytes)) continue;
    const header = decodeFileHeader(bytes);
    if (header === null) {
      damage.bad_file_headers++;
    } else if (!isReadableVersion(header.version) || header.segment !== number) {
      damage.skipped_segments++;
      continue;
    } else {
      const gap = findGap(number, header.link, after, listed, lastSeq);
      if (gap !== null) countGap(damage, gap);
    }
    after = number;
    const result = scanRecords(bytes, {
      start: Math.min(bytes.length, header?.size ?? declaredHeaderSize(bytes)),
      afterSeq: lastSeq,
      countTail: !newest,
    });
    damage.regions += result.damage.regions;
    damage.bytes += result.damage.bytes;
    damage.torn_tails += result.damage.torn_tail;
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
