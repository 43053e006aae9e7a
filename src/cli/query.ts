/**
 * `flightlog query <dir> [filters]`: events matching the same filters as
 * `Logger.query()` (flow, run, minimum level, event and node globs, time
 * range, field equality), in timestamp order, as text, JSON or JSON Lines.
 *
 * @module
 */
import type { QueryFilter } from "../query/types.ts";
import {
  CliError,
  type CliIo,
  damageExit,
  EXIT,
  FILTER_FLAGS,
  filterFromFlags,
  openStore,
  parseCount,
  parseFlags,
  positionals,
  queryPage,
} from "./_common.ts";
import { type EventFormat, EventWriter } from "./_event_text.ts";

/** Parses `--format`. */
export function parseFormat(text: string | undefined, allowed: readonly string[]): string {
  const format = text ?? allowed[0]!;
  if (!allowed.includes(format)) {
    throw new CliError(
      `Invalid --format ${JSON.stringify(format)}: use one of ${allowed.join(", ")}`,
      EXIT.usage,
    );
  }
  return format;
}

const PAGE = 10_000;

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
    let left = limit;
    let cursor: string | null = null;
    while (left > 0 && !io.out.closed) {
      const page: QueryFilter = { ...filter, limit: Math.min(PAGE, left) };
      if (cursor !== null) page.cursor = cursor;
      const result = queryPage(store, page);
      for (const event of result.events) writer.event(event);
      left -= result.events.length;
      cursor = result.cursor;
      if (cursor === null) break;
    }
    writer.end();
    return damageExit(io, dir!, store.stats());
  } finally {
    store.close();
  }
}
