/**
 * Retention: which segments the writer removes, by size and by age, what it
 * counts of them, and the `log.evicted` event a store writes about it.
 *
 * @module
 */
import { INTERNAL_EVENTS, type LogEvent } from "../event.ts";
import { SEVERITY } from "../level.ts";
import type { RecordExtent } from "./record.ts";
import type { SegmentEntry, StoreIndex } from "./store_index.ts";

/** What retention removed. */
export interface EvictionCounts {
  /** Segment files removed. */
  segments: number;
  /** Records in them. */
  records: number;
  /** Events in them. */
  events: number;
  /** Their bytes. */
  bytes: number;
}

/** The limits of {@linkcode Retention}, as `SegmentStore.open()` resolved them. */
export interface RetentionOptions {
  /** Total bytes kept. */
  maxBytes: number;
  /** Age after which a sealed segment goes. */
  maxAgeMs: number;
  /** Called with the records of each segment removed, before it goes. */
  onEvict: ((records: readonly RecordExtent[]) => void) | null;
}

/** Producer id of the events a store writes itself. */
const STORE_PRODUCER = "store";

/**
 * Retention of one writer over its store's index: removes the oldest
 * segments while the store is too big or they are too old, never the one
 * being appended to. Age is the time of a segment's last write, as this
 * writer knows it (see {@linkcode Retention.apply}).
 *
 * @example The oldest segment goes past maxBytes
 * ```ts
 * import { Retention } from "./retention.ts";
 * import { StoreIndex } from "./store_index.ts";
 * import assert from "node:assert/strict";
 * const index = new StoreIndex();
 * const segment = (number: number) =>
 *   index.addSegment({ number, path: `s${number}`, size: 100, scannedEnd: 100, createdMs: 0, appendable: true, file: null });
 * const [oldest, active] = [segment(1), segment(2)];
 * const retention = new Retention(index, { maxBytes: 150, maxAgeMs: Infinity, onEvict: null }, 0);
 * const removed: number[] = [];
 * const evicted = retention.apply(0, 0, active, (s) => removed.push(s.number));
 * assert.deepEqual(removed, [oldest.number]);
 * assert.equal(evicted?.segments, 1);
 * assert.deepEqual(index.segments, [active]);
 * ```
 */
export class Retention {
  readonly #index: StoreIndex;
  readonly #options: RetentionOptions;
  readonly #openedMs: number;
  /** Time of this writer's last write to each segment it wrote to. */
  readonly #lastWriteMs = new WeakMap<SegmentEntry, number>();
  /** What retention removed since the store was opened. */
  readonly evicted: EvictionCounts = { segments: 0, records: 0, events: 0, bytes: 0 };

  /** Retention over `index` by a writer that opened the store at `openedMs`. */
  constructor(index: StoreIndex, options: RetentionOptions, openedMs: number) {
    this.#index = index;
    this.#options = options;
    this.#openedMs = openedMs;
  }

  /** Notes that the writer wrote to `segment` at `now`. */
  wrote(segment: SegmentEntry, now: number): void {
    this.#lastWriteMs.set(segment, now);
  }

  /**
   * Removes the oldest segments other than `active` while the store and
   * `incoming` bytes exceed `maxBytes`, or while they were last written
   * before `now - maxAgeMs`: calls `onEvict` with the segment's records,
   * `remove` to delete its file (which may throw: then it stays indexed),
   * then drops it from the index. Returns what went, or null when nothing
   * did.
   */
  apply(
    now: number,
    incoming: number,
    active: SegmentEntry | null,
    remove: (segment: SegmentEntry) => void,
  ): EvictionCounts | null {
    const { maxBytes, maxAgeMs, onEvict } = this.#options;
    const cutoff = now - maxAgeMs;
    let bytes = this.#index.bytes + incoming;
    let evicted: EvictionCounts | null = null;
    while (true) {
      const oldest = this.#index.segments[0];
      if (oldest === undefined || oldest === active) break;
      if (bytes <= maxBytes && !(this.#sealedAt(oldest) < cutoff)) break;
      onEvict?.(oldest.records);
      remove(oldest);
      const removed = this.#index.removeSegment(oldest);
      bytes -= removed.bytes;
      evicted ??= { segments: 0, records: 0, events: 0, bytes: 0 };
      evicted.segments++;
      evicted.records += removed.records;
      evicted.events += removed.events;
      evicted.bytes += removed.bytes;
    }
    if (evicted !== null) {
      this.evicted.segments += evicted.segments;
      this.evicted.records += evicted.records;
      this.evicted.events += evicted.events;
      this.evicted.bytes += evicted.bytes;
    }
    return evicted;
  }

  /**
   * A time by which every write to `segment` was done: its last write by this
   * writer, else the creation time of the next segment with an intact
   * header, else the time this writer opened the store (it holds the lock,
   * so nobody wrote since).
   */
  #sealedAt(segment: SegmentEntry): number {
    const lastWrite = this.#lastWriteMs.get(segment);
    if (lastWrite !== undefined) return lastWrite;
    const segments = this.#index.segments;
    for (let i = segments.indexOf(segment) + 1; i < segments.length; i++) {
      const createdMs = segments[i]!.createdMs;
      if (!Number.isNaN(createdMs)) return createdMs;
    }
    return this.#openedMs;
  }
}

/**
 * The `log.evicted` event a store writes (producer `"store"`) about what its
 * retention or the browser's quota removed; `fields` say what.
 *
 * @example
 * ```ts
 * import { evictionEvent } from "./retention.ts";
 * import assert from "node:assert/strict";
 * const event = evictionEvent({ records: 3, events: 30, bytes: 4096 }, 1_000, 1);
 * assert.equal(event.event, "log.evicted");
 * assert.equal(event.producer, "store");
 * ```
 */
export function evictionEvent(fields: Record<string, unknown>, now: number, seq: number): LogEvent {
  return {
    ts_ms: now,
    level: "info",
    severity: SEVERITY.info,
    event: INTERNAL_EVENTS.evicted,
    producer: STORE_PRODUCER,
    seq,
    fields,
  };
}
