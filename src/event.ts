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

const CORRELATION = [
  "flow_id",
  "run_id",
  "job_id",
  "step_id",
  "step_type",
  "node",
  "trace_id",
  "span_id",
  "parent_id",
] as const;

/** The correlation fields flightlog treats as first-class. */
export const CORRELATION_FIELDS: typeof CORRELATION = Object.freeze(CORRELATION);

/**
 * Internal: set by the worker's decoder on events of a child logger, holding
 * the shared bindings object and the call's own fields, so the store can write
 * each set of bindings once per record instead of once per event. Not part of
 * the public API (not exported from `mod.ts`).
 */
export const BOUND_FIELDS: unique symbol = Symbol("flightlog.boundFields");

/** A {@linkcode LogEvent} that may carry {@linkcode BOUND_FIELDS}. */
export interface BoundEvent extends LogEvent {
  [BOUND_FIELDS]?: readonly [Record<string, unknown>, Record<string, unknown>];
}

/**
 * Internal: the flow id of an event, read without building the merged fields
 * of a bound event (a call field overrides a binding of the same name).
 */
export function flowIdOf(event: LogEvent): unknown {
  const bound = (event as BoundEvent)[BOUND_FIELDS];
  if (bound === undefined) return event.fields.flow_id;
  return Object.hasOwn(bound[1], "flow_id") ? bound[1].flow_id : bound[0].flow_id;
}

const WTF8_STRINGS: unique symbol = Symbol("flightlog.wtf8Strings");

/**
 * Internal: marks the fields object of a record (an event's `fields`, a child
 * logger event's own call fields, or a child's bindings) that holds a string
 * MessagePack (msgpackr) would not give back as it was: one with a lone
 * surrogate or a leading U+FEFF, in a key, a value or the event's name. The
 * worker's decoder sets it when it decodes such a string, so the store checks
 * the strings of these few objects only (`store/payload_codec.ts`): checking
 * every string cost a quarter of packing (bench/store_bench.ts "pack"). The
 * mark is a non-enumerable symbol: copies, JSON, structured clone and deep
 * equality do not see it.
 */
export function markWtf8Strings(target: object): void {
  Object.defineProperty(target, WTF8_STRINGS, { value: true });
}

/** Internal: true when {@linkcode markWtf8Strings} marked `target`. */
export function hasWtf8Strings(target: object): boolean {
  return (target as { [WTF8_STRINGS]?: true })[WTF8_STRINGS] === true;
}

/**
 * Internal: an event of a child logger as the worker decodes it. Its `fields`
 * (bindings then call fields) are merged only if something reads them; the
 * store packs the shared bindings and the call fields apart.
 */
export class BoundLogEvent implements LogEvent {
  ts_ms: number;
  level: LogEvent["level"];
  severity: number;
  event: string;
  producer: string;
  seq: number;
  [BOUND_FIELDS]: readonly [Record<string, unknown>, Record<string, unknown>];
  #fields: Record<string, unknown> | undefined = undefined;

  constructor(
    ts_ms: number,
    level: LogEvent["level"],
    severity: number,
    event: string,
    producer: string,
    seq: number,
    bindings: Record<string, unknown>,
    call: Record<string, unknown>,
  ) {
    this.ts_ms = ts_ms;
    this.level = level;
    this.severity = severity;
    this.event = event;
    this.producer = producer;
    this.seq = seq;
    this[BOUND_FIELDS] = [bindings, call];
  }

  /** Bindings, then the call's fields; spread keeps a `__proto__` key an own key. */
  get fields(): Record<string, unknown> {
    return this.#fields ??= { ...this[BOUND_FIELDS][0], ...this[BOUND_FIELDS][1] };
  }
}
