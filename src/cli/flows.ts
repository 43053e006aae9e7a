/**
 * `flightlog flows <dir>`: the stored flows, newest first, with status,
 * start, duration, event and error counts.
 *
 * It reads record headers only, plus each flow's last two records for its
 * run status, in one pass over the segment files (no index is built): a
 * store of 1,000,000 events is listed in well under a second
 * (bench/cli_figures.ts "flows").
 *
 * @module
 */
import { escapeControls, prettyJson } from "../sinks/console_format.ts";
import type { LogEvent } from "../event.ts";
import { emptyReadDamage, type ReadDamage, readStoreRecords } from "../export/store_reader.ts";
import { unpackEvents } from "../store/payload_codec.ts";
import type { SegmentRecord } from "../store/record.ts";
import { flowStatus, FlowTally } from "../query/flow_list.ts";
import {
  checkStoreDir,
  type CliIo,
  EXIT,
  humanDuration,
  isoTime,
  paint,
  parseCount,
  parseFlags,
  positionals,
  readDamageLine,
  table,
} from "./_common.ts";

/** One row of `flows`. */
export interface FlowRow {
  /** The flow id. */
  flow_id: string;
  /**
   * The status of its latest run, by the rule of `FlowListing.status`
   * (src/query/flow_list.ts), read from its last two records.
   */
  status: string;
  /** First event time, epoch ms. */
  start_ms: number;
  /** Last event time minus first. */
  duration_ms: number;
  /** Events. */
  events: number;
  /** Events at error level or above. */
  errors: number;
}

/** The flows of the store in `dir`, newest first (by first event), and the damage skipped. */
export function listFlowRows(dir: string): { rows: FlowRow[]; damage: ReadDamage } {
  const damage = emptyReadDamage();
  const tally = new FlowTally<SegmentRecord>();
  for (const record of readStoreRecords(dir, damage)) tally.add(record);
  const rows: FlowRow[] = [];
  for (const flow of tally.flows()) {
    rows.push({
      flow_id: flow.flowId,
      status: flowStatus(tailEvents(flow.tail), flow.errors),
      start_ms: flow.first,
      duration_ms: flow.last - flow.first,
      events: flow.events,
      errors: flow.errors,
    });
  }
  rows.sort((a, b) => b.start_ms - a.start_ms || (a.flow_id < b.flow_id ? -1 : 1));
  return { rows, damage };
}

/** The events of a flow's last records: reading only these keeps `flows` to the headers otherwise. */
function* tailEvents(tail: readonly (SegmentRecord | null)[]): Generator<LogEvent> {
  for (const record of tail) {
    if (record === null) continue;
    let events: LogEvent[];
    try {
      events = unpackEvents(record.payload);
    } catch {
      continue; // An intact record (CRC) that does not decode: counted by `verify`.
    }
    yield* events;
  }
}

const STATUS_COLOR = { ok: "green", failed: "red", errors: "red", running: "cyan" } as const;

/** Runs `flows`. */
export function flowsCommand(args: string[], io: CliIo): number {
  const { values, positionals: given } = parseFlags("flows", args, {
    json: { type: "boolean" },
    limit: { type: "string" },
  });
  const [dir] = positionals("flows", given, ["store dir"]);
  checkStoreDir(dir!);
  const limit = parseCount("limit", values.limit, Infinity);
  const { rows, damage } = listFlowRows(dir!);
  const shown = rows.slice(0, limit);
  if (values.json) {
    io.out.write(prettyJson(shown) + "\n");
  } else if (shown.length === 0) {
    io.err(`No flows in ${dir}: events logged without a flow_id are listed by \`query\``);
  } else {
    const color = io.outIsTty;
    io.out.write(table(
      ["FLOW", "STATUS", "START", "DURATION", "EVENTS", "ERRORS"],
      shown.map((r) => [
        escapeControls(r.flow_id),
        paint(
          color && r.status in STATUS_COLOR,
          STATUS_COLOR[r.status as keyof typeof STATUS_COLOR] ?? "gray",
          escapeControls(r.status),
        ),
        isoTime(r.start_ms),
        humanDuration(r.duration_ms),
        String(r.events),
        r.errors > 0 ? paint(color, "red", String(r.errors)) : "0",
      ]),
    ));
  }
  const line = readDamageLine(dir!, damage);
  if (line === null) return EXIT.ok;
  io.err(line);
  return EXIT.damaged;
}
