/**
 * Paging of query results, shared by the stores (segment files, IndexedDB):
 * the first `limit` matches in query order, and their cursor positions.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { compareEvents } from "./flow_log.ts";
import { type CursorPosition, encodeCursor } from "./filter.ts";
import type { QueryPage } from "./types.ts";

/** A matching event and where it was found: record number and index in it. */
export interface Match {
  /** The event. */
  event: LogEvent;
  /** Number of the record (batch) that holds it, in write order. */
  record: number;
  /** Its index in that record. */
  index: number;
}

/**
 * Keeps the `want` first matches in query order. Matches are collected
 * unsorted and trimmed once there are twice as many, so each one costs about
 * a push; after a trim, `bound` (the timestamp of the last one kept) lets the
 * query skip records that cannot hold a better match.
 *
 * @example The two earliest of three matches
 * ```ts
 * import { TopMatches } from "./top_matches.ts";
 * import assert from "node:assert/strict";
 *
 * const ev = (ts_ms: number) => ({ ts_ms, level: "info" as const, severity: 9, event: "e", producer: "p", seq: ts_ms, fields: {} });
 * const top = new TopMatches(2);
 * for (const ts of [30, 10, 20]) top.offer({ event: ev(ts), record: 0, index: ts });
 * assert.deepEqual(top.result().map((m) => m.event.ts_ms), [10, 20]);
 * assert.equal(top.bound, 20);
 * ```
 */
export class TopMatches {
  readonly #want: number;
  #matches: Match[] = [];
  #last: Match | null = null;

  /** Keeps the first `want` matches. */
  constructor(want: number) {
    this.#want = want;
  }

  /** Timestamp after which no event can make the result (Infinity until known). */
  get bound(): number {
    return this.#last === null ? Infinity : this.#last.event.ts_ms;
  }

  /** Considers one match. */
  offer(match: Match): void {
    if (this.#last !== null && compareMatches(match, this.#last) >= 0) return;
    this.#matches.push(match);
    // The first trim comes as soon as there are enough matches, to have a bound early.
    if (this.#matches.length >= (this.#last === null ? this.#want : 2 * this.#want)) this.#trim();
  }

  /** The kept matches, in query order. */
  result(): Match[] {
    this.#trim();
    return this.#matches;
  }

  #trim(): void {
    this.#matches.sort(compareMatches);
    if (this.#matches.length >= this.#want) {
      this.#matches.length = this.#want;
      this.#last = this.#matches[this.#want - 1]!;
    }
  }
}

/** Query order: event order, then write order. */
export function compareMatches(a: Match, b: Match): number {
  return compareEvents(a.event, b.event) || a.record - b.record || a.index - b.index;
}

/** Compares a match with a cursor position in query order. */
export function comparePosition(match: Match, position: CursorPosition): number {
  const event = match.event;
  if (event.ts_ms !== position.ts_ms) return event.ts_ms < position.ts_ms ? -1 : 1;
  if (event.producer !== position.producer) return event.producer < position.producer ? -1 : 1;
  return event.seq - position.seq || match.record - position.record || match.index - position.index;
}

/** The cursor position of a match. */
export function positionOf(match: Match): CursorPosition {
  const { ts_ms, producer, seq } = match.event;
  return { ts_ms, producer, seq, record: match.record, index: match.index };
}

/**
 * The page a query returns from the first `limit + 1` matches it kept: the
 * first `limit` events, and a cursor after the last one when there are more.
 */
export function pageOf(top: TopMatches, limit: number, fingerprint: string): QueryPage {
  const matches = top.result();
  const more = matches.length > limit;
  const page = more ? matches.slice(0, limit) : matches;
  const last = page.at(-1);
  return {
    events: page.map((m) => m.event),
    cursor: more && last !== undefined ? encodeCursor(positionOf(last), fingerprint) : null,
  };
}
