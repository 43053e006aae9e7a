/**
 * Listing the flows of a store, one computation for every reader: the
 * per-flow totals from record headers ({@linkcode FlowTally}), the status
 * rule ({@linkcode flowStatus}), and the pages of `listFlows()` with their
 * cursors ({@linkcode listFlowPage}). The CLI's `flows` and the stores
 * (segment files, IndexedDB) all use them.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import type { RecordSummary } from "./record.ts";
import { cursorText, cursorValues } from "./cursor_text.ts";
import { describe, pageLimit, timeRange } from "./arguments.ts";

/** One flow of a {@linkcode FlowPage}. */
export interface FlowListing {
  /** The flow id. */
  flow_id: string;
  /** The distinct string `run_id` fields of its events, in the order they first appear. */
  run_ids: string[];
  /** Smallest `ts_ms` of its events. */
  first_ts_ms: number;
  /** Largest `ts_ms` of its events. */
  last_ts_ms: number;
  /** Its events. */
  event_count: number;
  /** Its events at error level or above (`severity` ≥ 17). */
  error_count: number;
  /**
   * The status of its latest run: the `status` of its last `run_end` (e.g.
   * `"ok"`, `"failed"`, `"skipped"`, `"cancelled"`; `"ended"` without one);
   * `"running"` after a `run_start` with no `run_end` yet; otherwise
   * `"errors"` when it has error events, else `"-"`.
   */
  status: string;
}

/** Options of `listFlows()`. */
export interface ListFlowsOptions {
  /** Only flows with events at or after this time (epoch ms): their last event is not earlier. */
  since_ms?: number;
  /** Only flows with events before this time (epoch ms): their first event is earlier. */
  until_ms?: number;
  /**
   * Most flows in one page, 1 to 1000.
   * @default {100}
   */
  limit?: number;
  /** The `cursor` of the previous page, to continue after it. */
  cursor?: string;
}

/** One page of `listFlows()`. */
export interface FlowPage {
  /** Flows, the most recent last event first (ties by flow id). */
  flows: FlowListing[];
  /** Pass as `cursor` for the next page; `null` when this is the last. */
  cursor: string | null;
}

/** Default flows per page. */
export const DEFAULT_FLOW_LIMIT = 100;
/** Most flows per page. */
export const MAX_FLOW_LIMIT = 1000;

/** What the tally needs of a record: its header's facts and its flow. */
export interface FlowRecordHead extends RecordSummary {
  /** The flow id, or `null` for a record without a flow. */
  flowId: string | null;
}

/** One flow's totals over the records tallied. */
export interface FlowTotals<R extends FlowRecordHead> {
  /** The flow id. */
  readonly flowId: string;
  /** Smallest `minTs` of its records. */
  first: number;
  /** Largest `maxTs` of its records. */
  last: number;
  /** Events, from the headers. */
  events: number;
  /** Events with `severity` ≥ 17, from the headers. */
  errors: number;
  /** Its last two records, older first: enough for its status in the usual case. */
  tail: [R | null, R | null];
}

/**
 * Totals per flow over records given in sequence order (headers only).
 *
 * @example Two records of one flow
 * ```ts
 * import { FlowTally } from "./flow_list.ts";
 * import assert from "node:assert/strict";
 * const record = (seq: number, ts: number) => ({
 *   seq, flowId: "f", eventCount: 2, errorCount: 0, maxSeverity: 9, minTs: ts, maxTs: ts + 1,
 * });
 * const tally = new FlowTally();
 * tally.add(record(1, 10));
 * tally.add(record(2, 20));
 * const [f] = tally.flows();
 * assert.deepEqual([f?.first, f?.last, f?.events, f?.tail[0]?.seq], [10, 21, 4, 1]);
 * ```
 */
export class FlowTally<R extends FlowRecordHead> {
  readonly #flows = new Map<string, FlowTotals<R>>();
  #maxSeq = 0;

  /** Highest seq tallied (0 before any record). */
  get maxSeq(): number {
    return this.#maxSeq;
  }

  /** Adds a record; one without a flow is passed over. */
  add(record: R): void {
    if (record.seq > this.#maxSeq) this.#maxSeq = record.seq;
    const flowId = record.flowId;
    if (flowId === null) return;
    let flow = this.#flows.get(flowId);
    if (flow === undefined) {
      flow = { flowId, first: Infinity, last: -Infinity, events: 0, errors: 0, tail: [null, null] };
      this.#flows.set(flowId, flow);
    }
    flow.events += record.eventCount;
    flow.errors += record.errorCount;
    if (record.minTs < flow.first) flow.first = record.minTs;
    if (record.maxTs > flow.last) flow.last = record.maxTs;
    flow.tail[0] = flow.tail[1];
    flow.tail[1] = record;
  }

  /** Every flow tallied, in the order first seen. */
  flows(): IterableIterator<FlowTotals<R>> {
    return this.#flows.values();
  }
}

/**
 * The status rule of a flow (see {@linkcode FlowListing.status}) from events
 * in write order: its last `run_start` / `run_end` decides, else its error
 * count. Given only a flow's last records (as the CLI does, to read little),
 * it agrees with all of its events whenever its last run event is in them.
 *
 * @example A run that ended and one that goes on
 * ```ts
 * import { flowStatus } from "./flow_list.ts";
 * import assert from "node:assert/strict";
 * const event = (event: string, fields: Record<string, unknown> = {}) => ({
 *   ts_ms: 1, level: "info" as const, severity: 9, event, producer: "p.1", seq: 1, fields,
 * });
 * assert.equal(flowStatus([event("run_start"), event("run_end", { status: "ok" })], 0), "ok");
 * assert.equal(flowStatus([event("run_end", { status: "ok" }), event("run_start")], 0), "running");
 * assert.equal(flowStatus([event("step")], 2), "errors");
 * ```
 */
export function flowStatus(events: Iterable<LogEvent>, errors: number): string {
  let status: string | null = null;
  for (const event of events) {
    if (event.event === "run_start") status = "running";
    else if (event.event === "run_end") {
      status = typeof event.fields.status === "string" ? event.fields.status : "ended";
    }
  }
  return status ?? (errors > 0 ? "errors" : "-");
}

/** A validated {@linkcode ListFlowsOptions}. */
export interface CompiledFlowListing {
  /** Inclusive lower bound on a flow's last event. */
  sinceMs: number;
  /** Exclusive upper bound on a flow's first event. */
  untilMs: number;
  /** Flows per page. */
  limit: number;
  /** Where the previous page ended and the listing's snapshot, from the cursor; null on a first page. */
  after: FlowCursor | null;
  /** Identifies `since_ms` and `until_ms`, so a cursor cannot continue another listing. */
  fingerprint: string;
}

/** What a `listFlows()` cursor holds. */
export interface FlowCursor {
  /** Highest record seq of the listing: records written after its first page are not counted. */
  snapshot: number;
  /** `last_ts_ms` of the last flow of the previous page. */
  last: number;
  /** `flow_id` of the last flow of the previous page. */
  flowId: string;
}

const OPTION_KEYS: ReadonlySet<string> = new Set(["since_ms", "until_ms", "limit", "cursor"]);
const CURSOR_TAG = "flows";
const CURSOR_VERSION = 1;

/**
 * Validates `listFlows()` options. Throws a `TypeError` for a value of the
 * wrong type, an unknown key or a string that is no `listFlows()` cursor,
 * and a `RangeError` for a value out of range or a cursor of a listing with
 * other `since_ms` / `until_ms`.
 *
 * @example Defaults, and a limit out of range
 * ```ts
 * import { compileFlowListing } from "./flow_list.ts";
 * import assert from "node:assert/strict";
 * assert.equal(compileFlowListing({}).limit, 100);
 * assert.throws(() => compileFlowListing({ limit: 0 }), RangeError);
 * ```
 */
export function compileFlowListing(options: unknown): CompiledFlowListing {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(
      `listFlows() options must be an object such as { limit: 100 }, got ${describe(options)}`,
    );
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key)) {
      throw new TypeError(
        `Unknown listFlows() option ${
          JSON.stringify(key)
        }: use since_ms, until_ms, limit or cursor`,
      );
    }
  }
  const { sinceMs, untilMs } = timeRange(o, "listFlows()");
  const limit = pageLimit(o.limit, "listFlows()", DEFAULT_FLOW_LIMIT, MAX_FLOW_LIMIT);
  const fingerprint = JSON.stringify([o.since_ms ?? null, o.until_ms ?? null]);
  const after = o.cursor === undefined ? null : decodeFlowCursor(o.cursor, fingerprint);
  return { sinceMs, untilMs, limit, after, fingerprint };
}

/**
 * Encodes the cursor of a page that ended at `last` (its `last_ts_ms` and
 * `flow_id`), for the listing with `fingerprint` and `snapshot`.
 */
export function encodeFlowCursor(fingerprint: string, cursor: FlowCursor): string {
  // Numbers as text: JSON has no Infinity, which a flow without numeric timestamps has.
  return cursorText([
    CURSOR_TAG,
    CURSOR_VERSION,
    fingerprint,
    cursor.snapshot,
    String(cursor.last),
    cursor.flowId,
  ]);
}

/**
 * Decodes a cursor of `listFlows()`. Throws a `TypeError` when it is not
 * one, and a `RangeError` when it belongs to a listing with other bounds.
 *
 * @example Round trip, and a foreign cursor
 * ```ts
 * import { decodeFlowCursor, encodeFlowCursor } from "./flow_list.ts";
 * import assert from "node:assert/strict";
 * const cursor = { snapshot: 9, last: 5, flowId: "f" };
 * assert.deepEqual(decodeFlowCursor(encodeFlowCursor("[null,null]", cursor), "[null,null]"), cursor);
 * assert.throws(() => decodeFlowCursor("nonsense", "[null,null]"), TypeError);
 * ```
 */
export function decodeFlowCursor(cursor: unknown, fingerprint: string): FlowCursor {
  if (typeof cursor !== "string") {
    throw new TypeError(
      `listFlows() cursor must be the string of a previous page's cursor, got ${describe(cursor)}`,
    );
  }
  const parsed = cursorValues(cursor);
  if (Array.isArray(parsed) && parsed[0] === 1 && parsed.length === 7) {
    throw new TypeError(
      "This cursor is a query() cursor: pass listFlows() the cursor of a previous listFlows() page",
    );
  }
  const last = Array.isArray(parsed) && typeof parsed[4] === "string" ? Number(parsed[4]) : NaN;
  if (
    !Array.isArray(parsed) || parsed.length !== 6 || parsed[0] !== CURSOR_TAG ||
    parsed[1] !== CURSOR_VERSION || typeof parsed[2] !== "string" ||
    !Number.isSafeInteger(parsed[3]) || parsed[3] < 0 || Number.isNaN(last) ||
    typeof parsed[5] !== "string"
  ) {
    throw new TypeError(
      "Invalid listFlows() cursor: pass the cursor of the previous page unchanged, or leave it out to start over",
    );
  }
  if (parsed[2] !== fingerprint) {
    throw new RangeError(
      "This listFlows() cursor belongs to a listing with other since_ms/until_ms: pass the same ones as for its first page, changing only limit",
    );
  }
  return { snapshot: parsed[3], last, flowId: parsed[5] };
}

/**
 * Reads the events of the records of `flowIds` with seq up to `snapshot`,
 * each flow's in sequence order (a record that cannot be read is left out).
 * All at once, so a store can read neighbouring records together.
 */
export type FlowEventLoader = (
  flowIds: readonly string[],
  snapshot: number,
) => ReadonlyMap<string, readonly LogEvent[]>;

/**
 * One page of flows over `records` (every record of a store, in sequence
 * order): the headers give each flow's totals and the order; only the
 * flows of the page are read, through `load`, for their run ids, error
 * count and status.
 *
 * The listing is a snapshot taken at its first page: records written later
 * (by seq) are not counted on the pages that follow, so no flow moves
 * between pages, none is listed twice and none is skipped; a flow whose
 * records are all evicted meanwhile is left out. A new listing (no cursor)
 * sees everything.
 *
 * @example Two pages of one flow each
 * ```ts
 * import { listFlowPage } from "./flow_list.ts";
 * import assert from "node:assert/strict";
 * const record = (seq: number, flowId: string) => ({
 *   seq, flowId, eventCount: 1, errorCount: 0, maxSeverity: 9, minTs: seq, maxTs: seq,
 * });
 * const records = [record(1, "a"), record(2, "b")];
 * const first = listFlowPage(records, () => new Map(), { limit: 1 });
 * assert.deepEqual(first.flows.map((f) => f.flow_id), ["b"]);
 * const second = listFlowPage(records, () => new Map(), { limit: 1, cursor: first.cursor! });
 * assert.deepEqual([second.flows.map((f) => f.flow_id), second.cursor], [["a"], null]);
 * ```
 */
export function listFlowPage<R extends FlowRecordHead>(
  records: Iterable<R>,
  load: FlowEventLoader,
  options: ListFlowsOptions | undefined,
): FlowPage {
  const listing = compileFlowListing(options);
  const snapshot = listing.after?.snapshot ?? Infinity;
  const tally = new FlowTally<R>();
  for (const record of records) if (record.seq <= snapshot) tally.add(record);
  const { sinceMs, untilMs, limit, after } = listing;
  const chosen: FlowTotals<R>[] = [];
  for (const flow of tally.flows()) {
    if (flow.last < sinceMs || flow.first >= untilMs) continue;
    if (after !== null && !isAfter(flow, after)) continue;
    chosen.push(flow);
  }
  chosen.sort(newestFirst);
  const page = chosen.slice(0, limit);
  const events = load(page.map((flow) => flow.flowId), snapshot);
  const flows = page.map((flow) => listingOf(flow, events.get(flow.flowId) ?? []));
  const last = page[page.length - 1];
  const cursor = chosen.length > limit && last !== undefined
    ? encodeFlowCursor(listing.fingerprint, {
      snapshot: listing.after?.snapshot ?? tally.maxSeq,
      last: last.last,
      flowId: last.flowId,
    })
    : null;
  return { flows, cursor };
}

function newestFirst(a: FlowTotals<FlowRecordHead>, b: FlowTotals<FlowRecordHead>): number {
  if (a.last !== b.last) return a.last > b.last ? -1 : 1;
  return a.flowId < b.flowId ? -1 : a.flowId > b.flowId ? 1 : 0;
}

function isAfter(flow: FlowTotals<FlowRecordHead>, after: FlowCursor): boolean {
  return flow.last < after.last || (flow.last === after.last && flow.flowId > after.flowId);
}

function listingOf(flow: FlowTotals<FlowRecordHead>, events: readonly LogEvent[]): FlowListing {
  const runs = new Set<string>();
  let errors = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (event.severity >= 17) errors++;
    const run = event.fields.run_id;
    if (typeof run === "string") runs.add(run);
  }
  return {
    flow_id: flow.flowId,
    run_ids: [...runs],
    first_ts_ms: flow.first,
    last_ts_ms: flow.last,
    event_count: flow.events,
    error_count: errors,
    status: flowStatus(events, errors),
  };
}
