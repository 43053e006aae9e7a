/**
 * Query filters: validation, glob matching, event matching and cursors.
 *
 * @module
 */
import CRC32C from "crc-32/crc32c.js";
import type { LogEvent } from "../event.ts";
import { parseLevel, SEVERITY } from "../level.ts";
import type { QueryFilter } from "./types.ts";
import { cursorText, cursorValues } from "./cursor_text.ts";
import { describe, pageLimit, timeRange } from "./arguments.ts";

/** Page size when a filter gives no `limit`. */
export const DEFAULT_LIMIT = 1000;

/** Largest accepted `limit`. */
export const MAX_LIMIT = 100_000;

const FILTER_KEYS: readonly string[] = [
  "flow_id",
  "run_id",
  "level",
  "event",
  "node",
  "category",
  "since_ms",
  "until_ms",
  "where",
  "limit",
  "cursor",
];

/**
 * A position in the store's total event order: timestamp, producer and
 * producer sequence (as {@linkcode compareEvents} in `query/flow_log.ts` orders
 * events), then the store record sequence and the index in the record, which
 * make positions unique and never change once written.
 */
export interface CursorPosition {
  /** `ts_ms` of the event. */
  ts_ms: number;
  /** `producer` of the event. */
  producer: string;
  /** `seq` of the event. */
  seq: number;
  /** Sequence number of the record holding the event. */
  record: number;
  /** Index of the event in that record. */
  index: number;
}

/** A validated filter, ready to match events. */
export interface CompiledFilter {
  /** `flow_id` criterion, if any. */
  flowId: string | undefined;
  /** Smallest matching severity (0 without a level criterion). */
  minSeverity: number;
  /** Inclusive lower bound on `ts_ms` (-Infinity without one). */
  sinceMs: number;
  /** Exclusive upper bound on `ts_ms` (+Infinity without one). */
  untilMs: number;
  /** Page size. */
  limit: number;
  /** Position to continue after, from the cursor. */
  after: CursorPosition | null;
  /** Identifies the criteria (all but `limit` and `cursor`), so a cursor cannot continue another query. */
  fingerprint: string;
  /** True when the event meets every criterion (the cursor aside). */
  matches(event: LogEvent): boolean;
}

/**
 * Validates a filter and compiles it. Throws a `TypeError` for a value of the
 * wrong type or an unknown key, and a `RangeError` for a value out of range;
 * the message names the key and says what is accepted.
 *
 * @example Compile and match
 * ```ts
 * import { compileFilter } from "./filter.ts";
 * import assert from "node:assert/strict";
 * const filter = compileFilter({ level: "warn", event: "step_*" });
 * const event = {
 *   ts_ms: 1, level: "error" as const, severity: 17, event: "step_end",
 *   producer: "p.1", seq: 1, fields: {},
 * };
 * assert.ok(filter.matches(event));
 * assert.throws(() => compileFilter({ limit: 0 }), RangeError);
 * ```
 */
export function compileFilter(filter: QueryFilter): CompiledFilter {
  if (typeof filter !== "object" || filter === null || Array.isArray(filter)) {
    throw new TypeError(`Query filter must be an object, got ${describe(filter)}`);
  }
  for (const key of Object.keys(filter)) {
    if (!FILTER_KEYS.includes(key)) {
      throw new TypeError(
        `Unknown query filter key ${JSON.stringify(key)}: use ${FILTER_KEYS.join(", ")}`,
      );
    }
  }
  const flowId = optionalString(filter, "flow_id");
  const runId = optionalString(filter, "run_id");
  const eventGlob = optionalString(filter, "event");
  const nodeGlob = optionalString(filter, "node");
  const category = optionalString(filter, "category");
  if (category === "") {
    throw new TypeError('Query filter category must be a category such as "my-lib", got ""');
  }
  const below = category === undefined ? "" : category + ".";
  const minSeverity = filter.level === undefined
    ? 0
    : SEVERITY[parseLevel(filter.level, "query filter level")];
  const { sinceMs, untilMs } = timeRange(filter, "Query filter");
  const where = validateWhere(filter.where);
  const limit = pageLimit(filter.limit, "Query filter", DEFAULT_LIMIT, MAX_LIMIT);
  const fingerprint = fingerprintOf(filter);
  const after = filter.cursor === undefined ? null : decodeCursor(filter.cursor, fingerprint);
  const matchEvent = eventGlob === undefined ? null : compileMatcher(eventGlob);
  const matchNode = nodeGlob === undefined ? null : compileMatcher(nodeGlob);
  const timeBound = sinceMs !== -Infinity || untilMs !== Infinity;
  return {
    flowId,
    minSeverity,
    sinceMs,
    untilMs,
    limit,
    after,
    fingerprint,
    matches(event: LogEvent): boolean {
      if (timeBound && !(event.ts_ms >= sinceMs && event.ts_ms < untilMs)) return false;
      if (minSeverity !== 0 && !(event.severity >= minSeverity)) return false;
      const fields = event.fields;
      if (flowId !== undefined && fields.flow_id !== flowId) return false;
      if (runId !== undefined && fields.run_id !== runId) return false;
      if (matchEvent !== null && !matchEvent(event.event)) return false;
      if (matchNode !== null) {
        const node = fields.node;
        if (typeof node !== "string" || !matchNode(node)) return false;
      }
      if (category !== undefined) {
        // By whole parts: "my-lib" covers "my-lib.db", never "my-library".
        const c = fields.category;
        if (c !== category && (typeof c !== "string" || !c.startsWith(below))) return false;
      }
      if (where !== null) {
        for (const [key, value] of where) {
          if (!Object.hasOwn(fields, key) || fields[key] !== value) return false;
        }
      }
      return true;
    },
  };
}

/**
 * Compiles a glob: `*` matches any run of characters (none included), `?`
 * exactly one character (code point), everything else itself. The whole
 * string must match.
 *
 * @example Match event names
 * ```ts
 * import { compileGlob } from "./filter.ts";
 * import assert from "node:assert/strict";
 * assert.ok(compileGlob("step_*").test("step_end"));
 * assert.ok(compileGlob("v?.x").test("v1.x"));
 * assert.ok(!compileGlob("v?.x").test("v1ax"));
 * ```
 */
export function compileGlob(glob: string): RegExp {
  let source = "^";
  for (const char of glob) {
    if (char === "*") source += "[^]*";
    else if (char === "?") source += ".";
    else if ("\\^$.|+()[]{}/".includes(char)) source += "\\" + char;
    else source += char;
  }
  return new RegExp(source + "$", "su");
}

/**
 * Encodes a cursor for the page that ends at `position`.
 *
 * @example Round-trip a cursor
 * ```ts
 * import { decodeCursor, encodeCursor } from "./filter.ts";
 * import assert from "node:assert/strict";
 * const position = { ts_ms: 5, producer: "p.1", seq: 2, record: 9, index: 0 };
 * assert.deepEqual(decodeCursor(encodeCursor(position, "abc"), "abc"), position);
 * ```
 */
export function encodeCursor(position: CursorPosition, fingerprint: string): string {
  return cursorText([
    1,
    fingerprint,
    position.ts_ms,
    position.producer,
    position.seq,
    position.record,
    position.index,
  ]);
}

/**
 * Decodes a cursor. Throws a `TypeError` when it is not one, and a
 * `RangeError` when it was made for a query with other criteria.
 *
 * @example Reject a cursor of another query
 * ```ts
 * import { decodeCursor, encodeCursor } from "./filter.ts";
 * import assert from "node:assert/strict";
 * const cursor = encodeCursor({ ts_ms: 5, producer: "p.1", seq: 2, record: 9, index: 0 }, "abc");
 * assert.throws(() => decodeCursor(cursor, "def"), RangeError);
 * assert.throws(() => decodeCursor("nonsense", "abc"), TypeError);
 * ```
 */
export function decodeCursor(cursor: string, fingerprint: string): CursorPosition {
  if (typeof cursor !== "string") {
    throw new TypeError(`Query filter cursor must be a string, got ${describe(cursor)}`);
  }
  const parsed = cursorValues(cursor);
  if (
    !Array.isArray(parsed) || parsed.length !== 7 || parsed[0] !== 1 ||
    typeof parsed[1] !== "string" || typeof parsed[2] !== "number" ||
    typeof parsed[3] !== "string" || typeof parsed[4] !== "number" ||
    !Number.isSafeInteger(parsed[5]) || !Number.isSafeInteger(parsed[6])
  ) {
    throw new TypeError(
      "Invalid query cursor: pass the cursor string of the previous page unchanged",
    );
  }
  if (parsed[1] !== fingerprint) {
    throw new RangeError(
      "Query cursor belongs to a query with other criteria: repeat that query's criteria, changing only limit",
    );
  }
  return {
    ts_ms: parsed[2],
    producer: parsed[3],
    seq: parsed[4],
    record: parsed[5],
    index: parsed[6],
  };
}

function compileMatcher(glob: string): (value: string) => boolean {
  if (glob === "*") return () => true;
  if (!glob.includes("*") && !glob.includes("?")) return (value) => value === glob;
  const regex = compileGlob(glob);
  return (value) => regex.test(value);
}

function optionalString(
  filter: QueryFilter,
  key: "flow_id" | "run_id" | "event" | "node" | "category",
) {
  const value: unknown = filter[key];
  if (value === undefined || typeof value === "string") return value;
  throw new TypeError(`Query filter ${key} must be a string, got ${describe(value)}`);
}

function validateWhere(where: unknown): [string, unknown][] | null {
  if (where === undefined) return null;
  if (typeof where !== "object" || where === null || Array.isArray(where)) {
    throw new TypeError(
      `Query filter where must be an object of field values, got ${describe(where)}`,
    );
  }
  const entries = Object.entries(where);
  for (const [key, value] of entries) {
    const type = typeof value;
    if (value !== null && type !== "string" && type !== "number" && type !== "boolean") {
      throw new TypeError(
        `Query filter where.${key} must be a string, number, boolean or null, got ${
          describe(value)
        }`,
      );
    }
    if (Number.isNaN(value)) {
      throw new RangeError(
        `Query filter where.${key} is NaN, which equals nothing: use another value`,
      );
    }
  }
  return entries.length === 0 ? null : entries;
}

function fingerprintOf(filter: QueryFilter): string {
  const where = filter.where === undefined
    ? null
    : Object.entries(filter.where).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const criteria = JSON.stringify([
    filter.flow_id ?? null,
    filter.run_id ?? null,
    filter.level ?? null,
    filter.event ?? null,
    filter.node ?? null,
    filter.since_ms ?? null,
    filter.until_ms ?? null,
    where,
    // Appended only when given, so cursors of queries without it keep their fingerprint.
    ...(filter.category === undefined ? [] : [filter.category]),
  ]);
  return (CRC32C.str(criteria) >>> 0).toString(36);
}
