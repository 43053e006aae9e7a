/**
 * The shape of a persisted event, as the worker stores it and queries return it.
 *
 * @module
 */
import type { LevelName } from "./level.ts";

/**
 * One persisted log event.
 *
 * Metadata sits at the top level; everything the caller passed (child-logger
 * bindings first, then the call's fields) sits in `fields`, so a user field can
 * never collide with `ts_ms`, `level` or `event`.
 */
export interface LogEvent {
  /** Wall-clock time of the log call, milliseconds since the Unix epoch (fractional). */
  ts_ms: number;
  /** Level name. */
  level: LevelName;
  /** OpenTelemetry severity number (1–24). */
  severity: number;
  /** Event name, e.g. `"step_end"`. */
  event: string;
  /**
   * Producer id: unique per producing thread of a logger instance, across
   * process restarts (`"<instance hex>.<n>"`).
   */
  producer: string;
  /** Per-producer sequence number, starting at 1; a dropped event leaves a hole. */
  seq: number;
  /** Bindings and call fields; correlation ids such as `flow_id` live here. */
  fields: Record<string, unknown>;
}

/** The event names flightlog writes itself. */
export const INTERNAL_EVENTS = {
  /** Written as soon as ring space returns after drops: `{ count, since_ms, until_ms }`. */
  dropped: "log.dropped",
  /** Written when retention removes segments: `{ segments, records, events, bytes }`. */
  evicted: "log.evicted",
} as const;
