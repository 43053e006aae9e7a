/**
 * `flightlog tail <dir> [-n N] [-f] [filters]`: the last N matching events
 * (10 by default), then, with `-f`, every new matching event as the writer
 * persists it, until Ctrl-C.
 *
 * Following polls the store (`refresh()`, every `--interval` ms, 200 by
 * default) and asks for events from a little before the newest one printed
 * (`LATE_MS`), skipping those already printed: an event that reaches the
 * store up to that long after a later-stamped one (another thread's batch)
 * is still printed, once. Events printed are in timestamp order within each
 * poll.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { compareEvents } from "../query/flow_log.ts";
import type { QueryFilter } from "../query/types.ts";
import type { SegmentStore } from "../store/segment_store.ts";
import { type CliIo, damageExit, openFiltered, queryPages } from "./_common.ts";
import { EventWriter } from "./_event_text.ts";

/** How far back each poll looks for late events, in ms of event time. */
export const LATE_MS = 1_000;

const uid = (event: LogEvent) => `${event.producer}:${event.seq}`;

function queryAll(store: SegmentStore, filter: QueryFilter): LogEvent[] {
  const events: LogEvent[] = [];
  for (const page of queryPages(store, filter)) for (const event of page) events.push(event);
  return events;
}

/** The last `n` events matching `filter`: looks back from the newest event in doubling windows. */
function lastEvents(store: SegmentStore, filter: QueryFilter, n: number): LogEvent[] {
  const { first_ts_ms: first, last_ts_ms: last } = store.stats();
  if (n === 0 || first === null || last === null) return [];
  const since = filter.since_ms ?? -Infinity;
  for (let window = 1_000;; window *= 4) {
    const from = Math.max(last - window, since);
    const events = queryAll(store, { ...filter, since_ms: from });
    if (events.length >= n || from <= first || from <= since) return events.slice(-n);
  }
}

/**
 * Prints matching events as they are persisted, until interrupted. Events
 * already in the store when following starts are never printed again: those
 * within {@linkcode LATE_MS} of the newest one are remembered by uid, as a
 * poll may return them; older ones are outside every poll's window.
 */
async function follow(
  store: SegmentStore,
  filter: QueryFilter,
  printed: LogEvent[],
  writer: EventWriter,
  io: CliIo,
  interval: number,
): Promise<void> {
  let newest = store.stats().last_ts_ms ?? -Infinity;
  for (const event of printed) if (event.ts_ms > newest) newest = event.ts_ms;
  const window = () => ({
    ...filter,
    since_ms: Math.max(newest - LATE_MS, filter.since_ms ?? -Infinity),
  });
  // uid -> ts_ms of the events in the current window that were printed or were there before.
  const seen = new Map<string, number>();
  for (const event of queryAll(store, window())) seen.set(uid(event), event.ts_ms);
  let pruneAt = Math.max(2 * seen.size, 10_000);
  let stop = false;
  io.interrupted.then(() => stop = true);
  while (!stop && !io.out.closed) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      io.interrupted,
      new Promise<void>((resolve) => timer = setTimeout(resolve, interval)),
    ]);
    clearTimeout(timer);
    if (stop) break;
    store.refresh();
    const fresh = queryAll(store, window()).filter((event) => !seen.has(uid(event)))
      .sort(compareEvents);
    if (fresh.length === 0) continue;
    for (const event of fresh) {
      writer.event(event);
      seen.set(uid(event), event.ts_ms);
      if (event.ts_ms > newest) newest = event.ts_ms;
    }
    io.out.flush();
    if (seen.size > pruneAt) {
      const cutoff = newest - LATE_MS;
      for (const [key, ts] of seen) if (ts < cutoff) seen.delete(key);
      pruneAt = Math.max(2 * seen.size, 10_000);
    }
  }
}

/** Runs `tail`. */
export async function tailCommand(args: string[], io: CliIo): Promise<number> {
  const { values, dir, format, counts, filter, store } = openFiltered("tail", args, {
    formats: ["text", "jsonl"],
    flags: {
      lines: { type: "string", short: "n" },
      follow: { type: "boolean", short: "f" },
      interval: { type: "string" },
    },
    counts: { lines: 10, interval: 200 },
  });
  try {
    const writer = new EventWriter(format, io.outIsTty, (text) => io.out.write(text));
    const printed = lastEvents(store, filter, counts.lines);
    for (const event of printed) writer.event(event);
    io.out.flush();
    if (values.follow) await follow(store, filter, printed, writer, io, counts.interval);
    io.out.flush();
    return damageExit(io, dir, store.stats());
  } finally {
    store.close();
  }
}
