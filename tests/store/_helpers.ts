/**
 * Shared helpers of the store tests: event factories and temporary stores.
 *
 * @module
 */
import type { LogEvent } from "../../src/event.ts";
import { type LevelName, SEVERITY } from "../../src/level.ts";

/** Builds an event; `fields` default to none, level to info. */
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

/** Events `from`..`to` (inclusive) of one flow, one ms apart, with distinct seqs. */
export function flowEvents(flowId: string, from: number, to: number): LogEvent[] {
  const events: LogEvent[] = [];
  for (let n = from; n <= to; n++) {
    events.push(makeEvent(1_000 + n, { flow_id: flowId, n }, { seq: n }));
  }
  return events;
}

/** Creates a temporary directory for one test. */
export function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "flightlog_store_test_" });
}

/** A clock the test moves by hand. */
export function manualClock(
  start = 1_700_000_000_000,
): { now: () => number; set(ms: number): void } {
  let ms = start;
  return {
    now: () => ms,
    set(value: number) {
      ms = value;
    },
  };
}

/** Names of the segment files in `dir`, sorted. */
export function segmentFiles(dir: string): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.name.startsWith("seg-")) names.push(entry.name);
  }
  return names.sort();
}
