/**
 * `flightlog query <dir> [filters]`: events matching the same filters as
 * `Logger.query()` (flow, run, minimum level, event and node globs, time
 * range, field equality), in timestamp order, as text, JSON or JSON Lines.
 *
 * @module
 */
import {
  type CliIo,
  damageExit,
  FILTER_FLAGS,
  filterFromFlags,
  openStore,
  parseCount,
  parseFlags,
  parseFormat,
  positionals,
  queryPages,
} from "./_common.ts";
import { type EventFormat, EventWriter } from "./_event_text.ts";

/** Runs `query`. */
export function queryCommand(args: string[], io: CliIo): number {
  const { values, positionals: given } = parseFlags("query", args, {
    ...FILTER_FLAGS,
    format: { type: "string" },
    limit: { type: "string" },
  });
  const [dir] = positionals("query", given, ["store dir"]);
  const format = parseFormat(values.format, ["text", "json", "jsonl"]) as EventFormat;
  const limit = parseCount("limit", values.limit, Infinity);
  const filter = filterFromFlags(values);
  const store = openStore(dir!);
  try {
    const writer = new EventWriter(format, io.outIsTty, (text) => io.out.write(text));
    writer.begin();
    for (const events of queryPages(store, filter, limit)) {
      for (const event of events) writer.event(event);
      if (io.out.closed) break;
    }
    writer.end();
    return damageExit(io, dir!, store.stats());
  } finally {
    store.close();
  }
}
