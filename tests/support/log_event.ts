/**
 * The one way tests build a {@linkcode LogEvent}: every field has a default
 * and the severity follows the level, so a test names only what it is about.
 *
 * @module
 */
import { BoundLogEvent, type LogEvent } from "../../src/event.ts";
import { type LevelName, SEVERITY } from "../../src/level.ts";

/**
 * An event at `ts_ms` holding `fields`: `step_end`, level info, producer
 * `p.1`, seq `ts_ms` rounded (at least 1), unless `overrides` says otherwise.
 */
export function makeEvent(
  ts_ms: number,
  fields: Record<string, unknown> = {},
  overrides: Partial<LogEvent> = {},
): LogEvent {
  const level: LevelName = overrides.level ?? "info";
  return {
    ts_ms,
    level,
    severity: SEVERITY[level],
    event: "step_end",
    producer: "p.1",
    seq: Math.max(1, Math.round(ts_ms)),
    fields,
    ...overrides,
  };
}

/**
 * A `step_end` event of a child logger at info level, as the worker's decoder
 * builds it: the child's `bindings` and the `call`'s own fields kept apart.
 */
export function makeBoundEvent(
  ts_ms: number,
  seq: number,
  bindings: Record<string, unknown>,
  call: Record<string, unknown>,
): BoundLogEvent {
  return new BoundLogEvent(ts_ms, "info", SEVERITY.info, "step_end", "ab.1", seq, bindings, call);
}
