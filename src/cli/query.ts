/**
 * `flightlog query <dir> [filters]`: events matching the same filters as
 * `Logger.query()` (flow, run, minimum level, event and node globs, time
 * range, field equality), in timestamp order, as text, JSON or JSON Lines.
 *
 * @module
 */
import { type CliIo, damageExit, openFiltered, queryPages } from "./_common.ts";
import { EventWriter } from "./_event_text.ts";

/** Runs `query`. */
export function queryCommand(args: string[], io: CliIo): number {
  const { dir, format, counts, filter, store } = openFiltered("query", args, {
    formats: ["text", "json", "jsonl"],
    flags: { limit: { type: "string" } },
    counts: { limit: Infinity },
  });
  try {
    const writer = new EventWriter(format, io.outIsTty, (text) => io.out.write(text));
    writer.begin();
    for (const events of queryPages(store, filter, counts.limit)) {
      for (const event of events) writer.event(event);
      if (io.out.closed) break;
    }
    writer.end();
    return damageExit(io, dir, store.stats());
  } finally {
    store.close();
  }
}
