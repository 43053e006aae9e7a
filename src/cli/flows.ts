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
   * The status of its latest run: the `status` of its `run_end` (ok, failed,
   * skipped, cancelled); `"running"` after a `run_start` without `run_end`;
   * otherwise `"errors"` when it has error events, else `"-"`.
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

interface Draft {
  row: FlowRow;
  last: number;
  /** Payloads of its last two records, older first. */
  tail: [Uint8Array | null, Uint8Array | null];
}

/** The flows of the store in `dir`, newest first (by first event), and the damage skipped. */
export function listFlowRows(dir: string): { rows: FlowRow[]; damage: ReadDamage } {
  const damage = emptyReadDamage();
  const drafts = new Map<string, Draft>();
  for (const record of readStoreRecords(dir, damage)) {
    if (record.flowId === null) continue;
    let draft = drafts.get(record.flowId);
    if (draft === undefined) {
      draft = {
        row: {
          flow_id: record.flowId,
          status: "-",
          start_ms: record.minTs,
          duration_ms: 0,
          events: 0,
          errors: 0,
        },
        last: record.maxTs,
        tail: [null, null],
      };
      drafts.set(record.flowId, draft);
    }
    const row = draft.row;
    row.events += record.eventCount;
    row.errors += record.errorCount;
    if (record.minTs < row.start_ms) row.start_ms = record.minTs;
    if (record.maxTs > draft.last) draft.last = record.maxTs;
    draft.tail[0] = draft.tail[1];
    draft.tail[1] = record.payload;
  }
  const rows: FlowRow[] = [];
  for (const draft of drafts.values()) {
    const row = draft.row;
    row.duration_ms = draft.last - row.start_ms;
    row.status = statusOf(draft.tail, row.errors);
    rows.push(row);
  }
  rows.sort((a, b) => b.start_ms - a.start_ms || (a.flow_id < b.flow_id ? -1 : 1));
  return { rows, damage };
}

function statusOf(tail: Draft["tail"], errors: number): string {
  let status: string | null = null;
  for (const payload of tail) {
    if (payload === null) continue;
    let events: LogEvent[];
    try {
      events = unpackEvents(payload);
    } catch {
      continue; // An intact record (CRC) that does not decode: counted by `verify`.
    }
    for (const event of events) {
      if (event.event === "run_start") status = "running";
      else if (event.event === "run_end") {
        status = typeof event.fields.status === "string" ? event.fields.status : "ended";
      }
    }
  }
  return status ?? (errors > 0 ? "errors" : "-");
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
