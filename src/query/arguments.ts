/**
 * The argument checks `query()` and `listFlows()` share: a time range of
 * epoch milliseconds, a page size, and the words an error uses for a wrong
 * value. `subject` opens each message (`"Query filter"`, `"listFlows()"`).
 *
 * @module
 */

/**
 * Reads the `since_ms` / `until_ms` bounds of `options`: -Infinity and
 * Infinity where left out. Throws a `TypeError` on a non-number, a
 * `RangeError` on a non-finite bound or one after the other.
 *
 * @example Defaults, and bounds the wrong way round
 * ```ts
 * import { timeRange } from "./arguments.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(timeRange({ since_ms: 5 }, "listFlows()"), { sinceMs: 5, untilMs: Infinity });
 * assert.throws(() => timeRange({ since_ms: 2, until_ms: 1 }, "listFlows()"), RangeError);
 * ```
 */
export function timeRange(
  options: { since_ms?: unknown; until_ms?: unknown },
  subject: string,
): { sinceMs: number; untilMs: number } {
  const sinceMs = timeBound(options.since_ms, subject, "since_ms") ?? -Infinity;
  const untilMs = timeBound(options.until_ms, subject, "until_ms") ?? Infinity;
  if (sinceMs > untilMs) {
    throw new RangeError(
      `${subject} since_ms (${sinceMs}) is after until_ms (${untilMs}): swap them, or leave one out`,
    );
  }
  return { sinceMs, untilMs };
}

function timeBound(value: unknown, subject: string, key: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number") {
    throw new TypeError(
      `${subject} ${key} must be a number of epoch milliseconds, got ${describe(value)}`,
    );
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(`${subject} ${key} must be finite, got ${value}: leave it out instead`);
  }
  return value;
}

/**
 * Reads a page size: `fallback` when left out, else an integer from 1 to
 * `max`. Throws a `TypeError` on a non-number, a `RangeError` out of range.
 *
 * @example
 * ```ts
 * import { pageLimit } from "./arguments.ts";
 * import assert from "node:assert/strict";
 * assert.equal(pageLimit(undefined, "listFlows()", 100, 1000), 100);
 * assert.throws(() => pageLimit(0, "listFlows()", 100, 1000), RangeError);
 * ```
 */
export function pageLimit(limit: unknown, subject: string, fallback: number, max: number): number {
  if (limit === undefined) return fallback;
  if (typeof limit !== "number") {
    throw new TypeError(`${subject} limit must be a number, got ${describe(limit)}`);
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new RangeError(
      `${subject} limit must be an integer from 1 to ${max}, got ${limit}: page with cursor for more`,
    );
  }
  return limit;
}

/**
 * Names a wrong value in an error message: `null`, `an array`, a string
 * quoted, `an object`, or its type and text (`number NaN`).
 */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object") return "an object";
  if (typeof value === "function") return "a function";
  return `${typeof value} ${String(value)}`;
}
