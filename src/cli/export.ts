/**
 * `flightlog export <dir> --format jsonl|json|otlp [-o file] [filters]`.
 *
 * - `jsonl`: one event per line (`jsonl.ts`);
 * - `json`: one JSON array of the same objects;
 * - `otlp`: OTLP/HTTP JSON requests, one per line, as the OpenTelemetry
 *   Collector's file exporter writes them and its `otlpjsonfile` receiver
 *   reads them: `ExportLogsServiceRequest`s of up to 5,000 events, then one
 *   `ExportTraceServiceRequest` per flow with the flow's spans (`otlp.ts`).
 *
 * Without filters, or with `--flow` only, events are written in storage
 * order (each producer's events in order; concurrent producers interleave
 * batch by batch) straight from the segment files; JSON Lines are
 * transcoded from the payload bytes (`jsonl_transcoder.ts`; figures in
 * docs/performance.md "Command line", from bench/cli_figures.ts). Other filters go through the
 * store's query and come in timestamp order. Spans are built per flow from
 * all of the flow's events, whatever the other filters. A progress bar
 * shows on standard error when it is a terminal and the output is not.
 *
 * @module
 */
import { closeSync, openSync, statSync, writeSync } from "node:fs";
import { escapeJsonText } from "../sinks/console_format.ts";
import cliProgress from "cli-progress";
import type { LogEvent } from "../event.ts";
import { eventToJson, payloadToJsonLines } from "../export/jsonl.ts";
import { payloadToJsonBytes } from "../export/jsonl_transcoder.ts";
import { toOtlpLogs, toOtlpTraces } from "../export/otlp.ts";
import { emptyReadDamage, readStoreRecords, segmentFileNames } from "../export/store_reader.ts";
import type { QueryFilter } from "../query/types.ts";
import type { SegmentStore } from "../store/segment_store.ts";
import {
  checkStoreDir,
  CliError,
  type CliIo,
  errorText,
  EXIT,
  openStore,
  Output,
  parseFiltered,
  queryPages,
  readDamageLine,
  storeDamageLine,
  unknownFlow,
} from "./_common.ts";

/** Events per OTLP logs request line. */
const OTLP_BATCH = 5_000;

interface Progress {
  add(n: number): void;
  /** Completes the bar (units counted only roughly reach the total) and removes the cursor hiding. */
  stop(): void;
}

function progress(io: CliIo, quiet: boolean, toStdout: boolean, total: number, unit: string) {
  if (quiet || !io.errIsTty || (toStdout && io.outIsTty) || total === 0) {
    return { add() {}, stop() {} } satisfies Progress;
  }
  const bar = new cliProgress.SingleBar({
    format: `export [{bar}] {percentage}% | {value}/{total} ${unit} | {eta_formatted} left`,
    hideCursor: true,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  let done = 0;
  return {
    add(n: number) {
      done += n;
      bar.update(done);
    },
    stop() {
      bar.update(total);
      bar.stop();
    },
  } satisfies Progress;
}

function isFlowOnly(filter: QueryFilter): boolean {
  return Object.keys(filter).every((key) => key === "flow_id");
}

/** Runs `export`. */
export function exportCommand(args: string[], io: CliIo): number {
  const { values, dir, format, filter } = parseFiltered("export", args, {
    formats: ["jsonl", "json", "otlp"],
    formatRequired: true,
    flags: {
      output: { type: "string", short: "o" },
      quiet: { type: "boolean", short: "q" },
    },
  });
  checkStoreDir(dir);

  let out = io.out;
  let file: number | null = null;
  if (values.output !== undefined && values.output !== "-") {
    try {
      file = openSync(values.output, "w");
    } catch (error) {
      throw new CliError(
        `Cannot write ${values.output} (${errorText(error)}): check the path and its permissions`,
      );
    }
    const fd = file;
    out = new Output({ writeSync: (bytes) => writeSync(fd, bytes) });
  }
  const toStdout = file === null;
  try {
    let damageLine: string | null;
    if (format !== "otlp" && isFlowOnly(filter)) {
      damageLine = exportRecords(
        dir,
        filter.flow_id,
        format,
        out,
        io,
        values.quiet ?? false,
        toStdout,
      );
    } else {
      const store = openStore(dir);
      try {
        exportQueried(store, filter, format, out, io, values.quiet ?? false, toStdout);
        damageLine = storeDamageLine(dir, store.stats());
      } finally {
        store.close();
      }
    }
    out.flush();
    if (damageLine === null) return EXIT.ok;
    io.err(damageLine);
    return EXIT.damaged;
  } finally {
    if (file !== null) closeSync(file);
  }
}

/** The fast path: records straight from the segment files, payloads straight to JSON. */
function exportRecords(
  dir: string,
  flowId: string | undefined,
  format: string,
  out: Output,
  io: CliIo,
  quiet: boolean,
  toStdout: boolean,
): string | null {
  let total = 0;
  for (const name of segmentFileNames(dir)) {
    try {
      total += statSync(`${dir}/${name}`).size;
    } catch {
      // Removed by retention since listing.
    }
  }
  const bar = progress(io, quiet, toStdout, Math.round(total / 1024), "KiB");
  const damage = emptyReadDamage();
  const json = format === "json";
  let first = true;
  let pending = 0;
  let matched = 0;
  if (json) out.write("[");
  try {
    for (const record of readStoreRecords(dir, damage)) {
      pending += record.payload.length;
      if (pending >= 1 << 20) {
        bar.add(Math.round(pending / 1024));
        pending = 0;
      }
      if (flowId !== undefined && record.flowId !== flowId) continue;
      matched++;
      if (!json) {
        const bytes = payloadToJsonBytes(record.payload);
        if (bytes !== null) {
          out.writeBytes(bytes);
          if (out.closed) break;
          continue;
        }
      }
      let lines: string;
      try {
        lines = payloadToJsonLines(record.payload);
      } catch {
        damage.regions++;
        damage.bytes += record.payload.length;
        continue;
      }
      if (json) {
        // JSON escapes newlines inside strings, so every "\n" separates two events.
        const body = lines.slice(0, -1).replaceAll("\n", ",\n");
        out.write((first ? "\n" : ",\n") + body);
        first = false;
      } else {
        out.write(lines);
      }
      if (out.closed) break;
    }
  } finally {
    bar.stop();
  }
  if (json) out.write(first ? "]\n" : "\n]\n");
  if (flowId !== undefined && matched === 0) throw unknownFlow(dir, flowId);
  return readDamageLine(dir, damage);
}

/** Filtered exports, and OTLP: through the store's index and query. */
function exportQueried(
  store: SegmentStore,
  filter: QueryFilter,
  format: string,
  out: Output,
  io: CliIo,
  quiet: boolean,
  toStdout: boolean,
): void {
  const infos = store.listFlows();
  if (filter.flow_id !== undefined && !infos.some((f) => f.flow_id === filter.flow_id)) {
    throw unknownFlow(store.dir, filter.flow_id);
  }
  const flows = filter.flow_id !== undefined ? [filter.flow_id] : infos.map((f) => f.flow_id);
  // The bar counts events written against the events there are to write: known for the
  // whole store or one flow; other filters select an unknown share, so they get no bar.
  const total = !isFlowOnly(filter)
    ? 0
    : filter.flow_id === undefined
    ? store.stats().events
    : infos.find((f) => f.flow_id === filter.flow_id)?.event_count ?? 0;
  const bar = progress(io, quiet, toStdout, total, "events");
  let first = true;
  let batch: LogEvent[] = [];
  const emit = (event: LogEvent) => {
    if (format === "otlp") {
      batch.push(event);
      if (batch.length >= OTLP_BATCH) {
        out.write(escapeJsonText(JSON.stringify(toOtlpLogs(batch))) + "\n");
        batch = [];
      }
    } else if (format === "json") {
      out.write((first ? "\n" : ",\n") + eventToJson(event));
      first = false;
    } else {
      out.write(eventToJson(event) + "\n");
    }
  };
  if (format === "json") out.write("[");
  try {
    for (const events of queryPages(store, filter)) {
      for (const event of events) emit(event);
      bar.add(events.length);
      if (out.closed) break;
    }
    if (batch.length > 0) out.write(escapeJsonText(JSON.stringify(toOtlpLogs(batch))) + "\n");
    if (format === "otlp") {
      for (const flowId of flows) {
        if (out.closed) break;
        const log = store.getFlowLog(flowId);
        const request = toOtlpTraces(log.events);
        if (request.resourceSpans[0]!.scopeSpans[0]!.spans.length > 0) {
          out.write(escapeJsonText(JSON.stringify(request)) + "\n");
        }
      }
    }
  } finally {
    bar.stop();
  }
  if (format === "json") out.write(first ? "]\n" : "\n]\n");
}
