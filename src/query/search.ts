/**
 * Answering queries over any store's records: the bounds a record must meet
 * to hold a match, the matching of its events into a page
 * ({@linkcode PageSearch}, used by the segment store and IndexedDB alike),
 * and the search and flow log over an index of record groups
 * ({@linkcode QueryIndex}, which the segment store's index implements).
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { type CompiledFilter, compileFilter } from "./filter.ts";
import { flowLogOf } from "./flow_log.ts";
import type { RecordSummary } from "./record.ts";
import { comparePosition, pageOf, TopMatches } from "./top_matches.ts";
import type { FlowLog, QueryFilter, QueryPage } from "./types.ts";

/** Bounds over the events of one record or of a group of records. */
export interface RecordBounds {
  /** Smallest `ts_ms`. */
  readonly minTs: number;
  /** Largest `ts_ms`. */
  readonly maxTs: number;
  /** Highest severity. */
  readonly maxSeverity: number;
}

/** Records stored together (a segment file), with bounds over all of them. */
export interface RecordGroup<R extends RecordSummary> extends RecordBounds {
  /** Its records, in sequence order. */
  readonly records: readonly R[];
}

/** What {@linkcode searchIndex} and {@linkcode readFlowLog} need of a store's index. */
export interface QueryIndex<R extends RecordSummary> {
  /** Every record, in groups, in storage order. */
  readonly segments: readonly RecordGroup<R>[];
  /**
   * The records of flow `flowId` in sequence order (empty for an unknown
   * flow), or null when no record can carry this flow id: events with such
   * a `flow_id` are in records without a flow.
   */
  flowRecords(flowId: string): readonly R[] | null;
}

/**
 * Reads records (given in sequence order) and returns each with its events;
 * a record that cannot be read is left out.
 */
export type RecordLoader<R extends RecordSummary> = (
  records: readonly R[],
) => readonly (readonly [R, LogEvent[]])[];

/**
 * Records fetched by the first step of a search; each step doubles it up to
 * the maximum, so a small page reads little and a large one few times.
 */
const FIRST_STEP = 4;
const MAX_STEP = 64;

/**
 * One query being answered: offer it the events of each record that may
 * hold a match, then take the page. Throws a `TypeError`/`RangeError` for an
 * invalid filter.
 *
 * @example Two records, a page of one
 * ```ts
 * import { PageSearch } from "./search.ts";
 * import assert from "node:assert/strict";
 * const event = (ts_ms: number) => ({
 *   ts_ms, level: "error" as const, severity: 17, event: "e", producer: "p.1", seq: ts_ms, fields: {},
 * });
 * const search = new PageSearch({ level: "error", limit: 1 });
 * assert.equal(search.mayHold(1, 2, 9), false); // info at most: skipped unread
 * search.offer(1, [event(2)]);
 * search.offer(2, [event(1)]);
 * const page = search.page();
 * assert.deepEqual(page.events.map((e) => e.ts_ms), [1]);
 * assert.notEqual(page.cursor, null);
 * ```
 */
export class PageSearch {
  /** The validated filter. */
  readonly filter: CompiledFilter;
  /**
   * False when no event of a record with these bounds can be on the page.
   * A closure over the bounds rather than a method reading them from `this`:
   * called for every record indexed, the method made the store_bench.ts
   * queries 1.2–1.3× slower (both versions timed in turn in one process).
   */
  readonly mayHold: (minTs: number, maxTs: number, maxSeverity: number) => boolean;
  readonly #top: TopMatches;

  /** Starts answering `filter`. */
  constructor(filter: QueryFilter) {
    this.filter = compileFilter(filter);
    this.#top = new TopMatches(this.filter.limit + 1);
    const { sinceMs, untilMs, minSeverity, after } = this.filter;
    const afterTs = after === null ? -Infinity : after.ts_ms;
    this.mayHold = (minTs, maxTs, maxSeverity) =>
      !(maxTs < sinceMs || minTs >= untilMs || maxSeverity < minSeverity || maxTs < afterTs);
  }

  /** Timestamp after which no event can make the page (Infinity until known). */
  get bound(): number {
    return this.#top.bound;
  }

  /** Considers the events of the record numbered `record` (its seq, or another number in write order). */
  offer(record: number, events: readonly LogEvent[]): void {
    const { after } = this.filter;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (!this.filter.matches(event)) continue;
      const match = { event, record, index: i };
      if (after !== null && comparePosition(match, after) <= 0) continue;
      this.#top.offer(match);
    }
  }

  /** The page: the first `limit` matches in query order, with a cursor when there are more. */
  page(): QueryPage {
    return pageOf(this.#top, this.filter.limit, this.filter.fingerprint);
  }
}

/**
 * Returns one page of the events of `index` matching `filter`, in
 * `compareEvents` order with ties broken by record and index, reading
 * through `load` only records whose bounds allow a match, in time order,
 * and stopping once no later record can make the page. A `flow_id` reads
 * that flow's records alone.
 *
 * @example Search an index held in memory
 * ```ts
 * import { searchIndex } from "./search.ts";
 * import assert from "node:assert/strict";
 * const event = (ts_ms: number) => ({
 *   ts_ms, level: "info" as const, severity: 9, event: "e", producer: "p.1", seq: ts_ms, fields: {},
 * });
 * const record = (seq: number) => ({
 *   seq, eventCount: 1, errorCount: 0, maxSeverity: 9, minTs: seq, maxTs: seq, events: [event(seq)],
 * });
 * const records = [record(1), record(2), record(3)];
 * const index = {
 *   segments: [{ minTs: 1, maxTs: 3, maxSeverity: 9, records }],
 *   flowRecords: () => null,
 * };
 * const page = searchIndex(index, (rs) => rs.map((r) => [r, r.events] as const), { since_ms: 2 });
 * assert.deepEqual(page.events.map((e) => e.ts_ms), [2, 3]);
 * ```
 */
export function searchIndex<R extends RecordSummary>(
  index: QueryIndex<R>,
  load: RecordLoader<R>,
  filter: QueryFilter,
): QueryPage {
  const search = new PageSearch(filter);
  const holds = search.mayHold;
  const mayHold = (r: RecordBounds) => holds(r.minTs, r.maxTs, r.maxSeverity);
  // Record lists to search, each with a lower bound on its events' timestamps.
  const sources: { minTs: number; records: readonly R[] }[] = [];
  const flowId = search.filter.flowId;
  const flowRecords = flowId === undefined ? null : index.flowRecords(flowId);
  if (flowRecords !== null) {
    sources.push({ minTs: -Infinity, records: flowRecords });
  } else {
    for (const segment of index.segments) {
      if (mayHold(segment)) sources.push(segment);
    }
    sources.sort((a, b) => a.minTs - b.minTs);
  }
  for (const source of sources) {
    if (search.bound < source.minTs) break;
    const candidates = source.records.filter(mayHold);
    // Mostly sorted already (records are written in time order), which TimSort handles in linear time.
    candidates.sort((a, b) => a.minTs - b.minTs || a.seq - b.seq);
    let step = FIRST_STEP;
    for (
      let from = 0;
      from < candidates.length && candidates[from]!.minTs <= search.bound;
      from += step, step = Math.min(2 * step, MAX_STEP)
    ) {
      const chunk = candidates.slice(from, from + step).sort((a, b) => a.seq - b.seq);
      for (const [record, events] of load(chunk)) {
        if (record.minTs > search.bound) continue;
        search.offer(record.seq, events);
      }
    }
  }
  return search.page();
}

/**
 * Returns everything recorded for flow `flowId` in `index`: reads only that
 * flow's records through `load` (see `buildFlowLog()` for the result). An
 * unknown flow gives an empty flow log, not an error.
 *
 * @example A flow of two records
 * ```ts
 * import { readFlowLog } from "./search.ts";
 * import assert from "node:assert/strict";
 * const event = (ts_ms: number) => ({
 *   ts_ms, level: "info" as const, severity: 9, event: "e", producer: "p.1", seq: ts_ms,
 *   fields: { flow_id: "f" },
 * });
 * const record = (seq: number) => ({
 *   seq, eventCount: 1, errorCount: 0, maxSeverity: 9, minTs: seq, maxTs: seq, events: [event(seq)],
 * });
 * const index = { segments: [], flowRecords: () => [record(2), record(1)] };
 * const log = readFlowLog(index, (rs) => rs.map((r) => [r, r.events] as const), "f");
 * assert.deepEqual(log.events.map((e) => e.ts_ms), [1, 2]);
 * ```
 */
export function readFlowLog<R extends RecordSummary>(
  index: QueryIndex<R>,
  load: RecordLoader<R>,
  flowId: string,
): FlowLog {
  const events: LogEvent[] = [];
  for (const [, recordEvents] of load(index.flowRecords(flowId) ?? [])) {
    for (let i = 0; i < recordEvents.length; i++) events.push(recordEvents[i]!);
  }
  return flowLogOf(flowId, events);
}
