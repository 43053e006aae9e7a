/**
 * Reads a store directory's records straight from its segment files, in
 * storage order, without building an index: for exports, which read
 * everything once. Tolerates a live writer (an unfinished last record is
 * not damage) and skips damage the way {@linkcode SegmentStore} does,
 * counting it.
 *
 * @module
 */
import { readdirSync } from "node:fs";
import { denoFs } from "../store/_fs_deno.ts";
import type { SegmentRecord } from "../store/record.ts";
import { scanRecords } from "../store/record_scanner.ts";
import { countGap, findGap, type GapCounts, type SegmentGap } from "../store/segment_gaps.ts";
import { parseSegmentFileName } from "../store/segment_format.ts";
import { readSegmentHead, type SegmentHead } from "../store/segment_head.ts";

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

/** Segment file names of `dir`, in segment order. Throws what listing the directory throws. */
export function segmentFileNames(dir: string): string[] {
  const found: [number, string][] = [];
  // node:fs, which Deno has too: the CLI runs on both (its Node.js build, scripts/build.ts).
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const number = parseSegmentFileName(entry.name);
    if (number !== null && entry.isFile()) found.push([number, entry.name]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, name]) => name);
}

/** A segment file as {@linkcode walkSegments} yields it. */
export interface WalkedSegment {
  /** Its file name. */
  name: string;
  /** Its segment number. */
  number: number;
  /** True for the newest segment, which a live writer may still be writing. */
  newest: boolean;
  /** The whole file. */
  bytes: Uint8Array;
  /** What its header says. */
  head: SegmentHead;
  /** The segments missing before it, found from its intact header; else null. */
  gap: SegmentGap | null;
}

/**
 * Yields the segment files of `dir` in segment order, each read whole, with
 * what its header says and the gap before it. A segment removed meanwhile
 * by a live writer's retention is passed over. The caller sets
 * `read.lastSeq` to the sequence number of the last record it accepted
 * before it takes the next segment: gaps are counted from it.
 *
 * @example Walk a store's segments
 * ```ts
 * import { walkSegments } from "./store_reader.ts";
 * import { SegmentStore } from "../store/segment_store.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const store = SegmentStore.open(dir);
 * store.append([{ ts_ms: 1, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: {} }]);
 * store.close();
 * const segments = [...walkSegments(dir, { lastSeq: 0 })];
 * assert.deepEqual(segments.map((s) => [s.number, s.head.kind, s.newest]), [[1, "intact", true]]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function* walkSegments(dir: string, read: { lastSeq: number }): Generator<WalkedSegment> {
  const names = segmentFileNames(dir);
  const listed = new Set(names.map((name) => parseSegmentFileName(name)!));
  let after: number | null = null;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const number = parseSegmentFileName(name)!;
    const newest = i === names.length - 1;
    let bytes: Uint8Array;
    try {
      // The runtime's own file system (Node.js's in the Node.js build).
      bytes = denoFs.readFile(`${dir}/${name}`);
    } catch (error) {
      if (denoFs.isNotFound(error)) continue;
      throw error;
    }
    const head = readSegmentHead(bytes, number, newest);
    const gap = head.kind === "intact"
      ? findGap(number, head.header.link, after, listed, read.lastSeq)
      : null;
    if (head.kind === "intact" || head.kind === "damaged") after = number;
    yield { name, number, newest, bytes, head, gap };
  }
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
export function* readStoreRecords(dir: string, damage: ReadDamage): Generator<SegmentRecord> {
  const read = { lastSeq: 0 };
  for (const { name, newest, bytes, head, gap } of walkSegments(dir, read)) {
    if (head.kind === "unfinished") continue;
    if (head.kind === "unsupported" || head.kind === "copy") {
      damage.skipped_segments++;
      continue;
    }
    if (head.kind === "damaged") damage.bad_file_headers++;
    if (gap !== null) countGap(damage, gap);
    const result = scanRecords(bytes, {
      start: head.start,
      afterSeq: read.lastSeq,
      countTail: !newest,
    });
    damage.regions += result.damage.regions;
    damage.bytes += result.damage.bytes;
    damage.torn_tails += result.damage.torn_tail;
    read.lastSeq = result.lastSeq;
    for (const record of result.records) {
      yield {
        start: record.start,
        end: record.end,
        payloadStart: record.payloadStart,
        seq: record.seq,
        flowId: record.flowId,
        eventCount: record.eventCount,
        errorCount: record.errorCount,
        maxSeverity: record.maxSeverity,
        minTs: record.minTs,
        maxTs: record.maxTs,
        segment: name,
        payload: bytes.subarray(record.payloadStart, record.end),
      };
    }
  }
}
