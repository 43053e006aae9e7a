/**
 * `flightlog stats <dir>`: segments, bytes, records, events, flows, drops,
 * evictions, time range, damage skipped (torn tails among it) and segments
 * missing between surviving ones, in one pass over the segment files. Drops
 * and evictions are summed from the `log.dropped` and `log.evicted` events,
 * which the logger writes without a flow, so only records without a flow are
 * decoded.
 *
 * @module
 */
import { statSync } from "node:fs";
import { INTERNAL_EVENTS } from "../event.ts";
import {
  emptyReadDamage,
  type ReadDamage,
  readStoreRecords,
  segmentFileNames,
} from "../export/store_reader.ts";
import { unpackEvents } from "../store/payload_codec.ts";
import {
  type CliIo,
  EXIT,
  humanDuration,
  isoTime,
  readDamageLine,
  reportStore,
} from "./_common.ts";

/** What `stats` reports. */
export interface StoreSummary {
  /** Segment files. */
  segments: number;
  /** Their bytes. */
  bytes: number;
  /** Intact records. */
  records: number;
  /** Events in them. */
  events: number;
  /** Distinct flow ids. */
  flows: number;
  /** Events at error level or above. */
  errors: number;
  /** Events dropped by full rings, from `log.dropped` events. */
  dropped: number;
  /** Retention passes that removed data, from `log.evicted` events. */
  evictions: number;
  /** Events removed by retention, from `log.evicted` events. */
  evicted_events: number;
  /** Earliest event, epoch ms, or null. */
  first_ts_ms: number | null;
  /** Latest event, epoch ms, or null. */
  last_ts_ms: number | null;
  /** Damage skipped, and segments missing between surviving ones. */
  damage: ReadDamage;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** Summarizes the store in `dir`. */
export function summarizeStore(dir: string): StoreSummary {
  const damage = emptyReadDamage();
  const names = segmentFileNames(dir);
  let bytes = 0;
  for (const name of names) {
    try {
      bytes += statSync(`${dir}/${name}`).size;
    } catch {
      // Removed by retention since listing.
    }
  }
  const summary: StoreSummary = {
    segments: names.length,
    bytes,
    records: 0,
    events: 0,
    flows: 0,
    errors: 0,
    dropped: 0,
    evictions: 0,
    evicted_events: 0,
    first_ts_ms: null,
    last_ts_ms: null,
    damage,
  };
  const flows = new Set<string>();
  let first = Infinity;
  let last = -Infinity;
  for (const record of readStoreRecords(dir, damage)) {
    summary.records++;
    summary.events += record.eventCount;
    summary.errors += record.errorCount;
    if (record.minTs < first) first = record.minTs;
    if (record.maxTs > last) last = record.maxTs;
    if (record.flowId !== null) {
      flows.add(record.flowId);
      continue;
    }
    let events;
    try {
      events = unpackEvents(record.payload);
    } catch {
      continue;
    }
    for (const event of events) {
      if (event.event === INTERNAL_EVENTS.dropped) summary.dropped += count(event.fields.count);
      else if (event.event === INTERNAL_EVENTS.evicted) {
        summary.evictions++;
        summary.evicted_events += count(event.fields.events);
      }
    }
  }
  summary.flows = flows.size;
  if (first <= last) {
    summary.first_ts_ms = first;
    summary.last_ts_ms = last;
  }
  return summary;
}

/** Runs `stats`. */
export function statsCommand(args: string[], io: CliIo): number {
  const { dir, report } = reportStore("stats", args, io, summarizeStore, statsText);
  const line = readDamageLine(dir, report.damage);
  if (line === null) return EXIT.ok;
  io.err(line);
  return EXIT.damaged;
}

function statsText(s: StoreSummary, dir: string): string {
  const span = s.first_ts_ms === null ? 0 : s.last_ts_ms! - s.first_ts_ms;
  return [
    `store      ${dir}`,
    `segments   ${s.segments} (${s.bytes} bytes)`,
    `records    ${s.records}`,
    `events     ${s.events} (${s.errors} errors) in ${s.flows} flows`,
    `dropped    ${s.dropped} events (full rings)`,
    `evicted    ${s.evicted_events} events in ${s.evictions} retention passes`,
    `from       ${isoTime(s.first_ts_ms)}`,
    `to         ${isoTime(s.last_ts_ms)} (${humanDuration(span)})`,
    `damage     ${s.damage.regions} regions (${s.damage.torn_tails} torn tails), ${s.damage.bytes} bytes, ${
      s.damage.skipped_segments + s.damage.bad_file_headers
    } segment files`,
    `missing    ${s.damage.gaps} gaps between segments (${s.damage.gap_records} records, ${s.damage.gap_events} events, ${s.damage.gap_bytes} bytes)`,
  ].join("\n") + "\n";
}
