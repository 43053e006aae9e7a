/**
 * Every page of a query: the cursor loop of the tests that read a whole
 * store or index.
 *
 * @module
 */
import type { LogEvent } from "../../src/event.ts";
import type { QueryFilter } from "../../src/query/types.ts";

/** The events of every page `run` answers for `filter`, following each page's cursor. */
export function allPages(
  run: (filter: QueryFilter) => { events: LogEvent[]; cursor: string | null },
  filter: QueryFilter,
): LogEvent[] {
  const events: LogEvent[] = [];
  let cursor: string | null = null;
  do {
    const page = run(cursor === null ? filter : { ...filter, cursor });
    events.push(...page.events);
    cursor = page.cursor;
  } while (cursor !== null);
  return events;
}
