/**
 * Log levels and their OpenTelemetry severity numbers.
 *
 * Each level maps to the first severity number of its OpenTelemetry range
 * (TRACE=1, DEBUG=5, INFO=9, WARN=13, ERROR=17, FATAL=21), so exported records
 * carry the standard `SeverityNumber` and backends sort them correctly.
 *
 * @module
 */

/** The name of a log level, from most to least verbose. */
export type LevelName = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

/** Every level name, from most to least verbose. */
export const LEVELS: readonly LevelName[] = ["trace", "debug", "info", "warn", "error", "fatal"];

/** OpenTelemetry severity number of each level (logs data model, `SeverityNumber`). */
export const SEVERITY: Readonly<Record<LevelName, number>> = {
  trace: 1,
  debug: 5,
  info: 9,
  warn: 13,
  error: 17,
  fatal: 21,
};

/**
 * Returns the level name of an OpenTelemetry severity number (1–24), rounding
 * down to the start of its range.
 *
 * @example Map a severity number back to a level
 * ```ts
 * import { levelOfSeverity } from "./level.ts";
 * import assert from "node:assert/strict";
 * assert.equal(levelOfSeverity(17), "error");
 * assert.equal(levelOfSeverity(11), "info");
 * ```
 */
export function levelOfSeverity(severity: number): LevelName {
  if (severity >= 21) return "fatal";
  if (severity >= 17) return "error";
  if (severity >= 13) return "warn";
  if (severity >= 9) return "info";
  if (severity >= 5) return "debug";
  return "trace";
}

/**
 * Returns true when `value` is one of the level names.
 *
 * @example Check user input
 * ```ts
 * import { isLevelName } from "./level.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isLevelName("warn"));
 * assert.ok(!isLevelName("verbose"));
 * ```
 */
export function isLevelName(value: unknown): value is LevelName {
  return typeof value === "string" && Object.hasOwn(SEVERITY, value);
}

/**
 * Parses a level name, throwing a `TypeError` that lists the valid names.
 *
 * @example Parse a level from configuration
 * ```ts
 * import { parseLevel } from "./level.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseLevel("debug"), "debug");
 * assert.throws(() => parseLevel("loud"), TypeError);
 * ```
 */
export function parseLevel(value: unknown, what = "level"): LevelName {
  if (isLevelName(value)) return value;
  throw new TypeError(
    `Invalid ${what} ${JSON.stringify(String(value))}: use one of ${LEVELS.join(", ")}`,
  );
}
