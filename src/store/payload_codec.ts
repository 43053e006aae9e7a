/**
 * Packs and unpacks record payloads: the msgpackr encoding of a record's
 * events (see docs/internals.md "Payload").
 *
 * msgpackr options, and why:
 * - `useRecords: true` with no shared structures (`maxSharedStructures: 0`):
 *   the record extension makes packing and unpacking fast and compact, and
 *   every `pack()` call then defines the structures it uses inline, so one
 *   `Packr` can serve every record while each record stays self-describing.
 * - `useBigIntExtension: true`: bigints of any size round-trip (those that fit
 *   64 bits use MessagePack int64/uint64, which unpack as bigint by default).
 * - Defaults kept: `undefined` (extension 0), `Date` (timestamp extension),
 *   NaN and ±Infinity (float64), `Map`s (MessagePack maps, unpacked as `Map`
 *   since `mapsAsObjects` is off with records), `toJSON()` honoured for other
 *   classes, as `JSON.stringify` would.
 * - `copyBuffers: true` on unpack: binary values must not pin the read buffer.
 *
 * msgpackr changes four things silently: it writes -0 as the integer 0; on
 * unpack it renames an own `__proto__` key to `__proto_` (its guard against
 * prototype pollution); it gives back a lone surrogate as U+FFFD (MessagePack
 * strings are UTF-8, which cannot hold one); and its TextDecoder drops a
 * leading U+FEFF (a byte order mark) from strings of more than 64 bytes.
 * Values are replaced by extensions that unpack to -0, to an object whose
 * keys are defined with `Object.defineProperty` (which never touches a
 * prototype), and to the string itself (its WTF-8 bytes, `src/wire/wtf8.ts`), in a
 * copy of the event's fields:
 * - -0 and `__proto__` keys: a quick walk over each event's `fields` finds
 *   them (about 5% of the cost of packing);
 * - strings: only those of a fields object (an event's fields, a child
 *   event's call fields, or bindings) marked with `markWtf8Strings()`
 *   (`src/event.ts`), which the ring's decoder sets when it decodes such a
 *   string. Checking every string instead made packing a quarter slower
 *   (bench/store_bench.ts "pack"). The name and producer id of an event whose
 *   fields are marked get the string extension too.
 *
 * @module
 */
import { addExtension, Packr } from "msgpackr/pack";
import { Unpackr } from "msgpackr/unpack";
import { BOUND_FIELDS, type BoundEvent, hasWtf8Strings, type LogEvent } from "../event.ts";
import { levelOfSeverity } from "../level.ts";
import { EXT_NEGATIVE_ZERO, EXT_OWN_PROTO_KEY, EXT_WTF8_STRING } from "./segment_format.ts";
import { decodeWtf8, encodeWtf8 } from "../wire/wtf8.ts";

class NegativeZero {}

/** A string msgpackr would change (see the module doc), on its way to {@linkcode EXT_WTF8_STRING}. */
class Wtf8String {
  constructor(readonly text: string) {}
}

class OwnProtoKeyObject {
  constructor(readonly entries: unknown[]) {}
}

const NEGATIVE_ZERO = new NegativeZero();

addExtension({
  Class: NegativeZero,
  type: EXT_NEGATIVE_ZERO,
  write: () => 0,
  read: () => -0,
});

addExtension({
  Class: OwnProtoKeyObject,
  type: EXT_OWN_PROTO_KEY,
  write: (value: OwnProtoKeyObject) => value.entries,
  read: (entries: unknown[]) => {
    const object: Record<string, unknown> = {};
    for (let i = 0; i + 1 < entries.length; i += 2) {
      Object.defineProperty(object, String(entries[i]), {
        value: entries[i + 1],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return object;
  },
});

addExtension({
  Class: Wtf8String,
  type: EXT_WTF8_STRING,
  pack: (value: Wtf8String) => encodeWtf8(value.text),
  unpack: (bytes: Uint8Array) => decodeWtf8(bytes),
});

const packr = new Packr({
  useRecords: true,
  maxSharedStructures: 0,
  useBigIntExtension: true,
});

const unpackr = new Unpackr({ useRecords: true, copyBuffers: true });

/**
 * Packs the events of one record. The result is a view into msgpackr's
 * buffer: copy it before the next call that packs.
 *
 * @example Pack and unpack two events
 * ```ts
 * import { packEvents, unpackEvents } from "./payload_codec.ts";
 * import assert from "node:assert/strict";
 * const event = {
 *   ts_ms: 1, level: "info" as const, severity: 9, event: "step_end",
 *   producer: "p.1", seq: 1, fields: { flow_id: "f", n: -0 },
 * };
 * const [back] = unpackEvents(packEvents([event]));
 * assert.ok(Object.is(back?.fields.n, -0));
 * ```
 */
export function packEvents(events: readonly LogEvent[]): Uint8Array {
  const templates: Record<string, unknown>[] = [];
  const index = new Map<object, number>();
  const rows: unknown[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const bound = (event as BoundEvent)[BOUND_FIELDS];
    let b = -1;
    let fields: Record<string, unknown>;
    if (bound === undefined) {
      fields = event.fields;
    } else {
      const known = index.get(bound[0]);
      if (known === undefined) {
        b = templates.length;
        index.set(bound[0], b);
        templates.push(bound[0]);
      } else {
        b = known;
      }
      fields = bound[1];
    }
    if (hasWtf8Strings(fields)) {
      rows[i] = [
        event.ts_ms,
        event.severity,
        escapeString(event.event),
        escapeString(event.producer),
        event.seq,
        b,
        escapeValue(fields),
      ];
      continue;
    }
    if (fieldsNeedEscape(fields)) fields = escapeValue(fields) as Record<string, unknown>;
    rows[i] = [event.ts_ms, event.severity, event.event, event.producer, event.seq, b, fields];
  }
  for (let i = 0; i < templates.length; i++) {
    const template = templates[i]!;
    if (hasWtf8Strings(template) || fieldsNeedEscape(template)) {
      templates[i] = escapeValue(template) as Record<string, unknown>;
    }
  }
  return packr.pack([templates, rows]);
}

/**
 * One event's row of a payload (`[ts_ms, severity, event, producer, seq, b,
 * fields]`, escaped as {@linkcode packEvents} escapes it), `b` the index of
 * its bindings in the payload or -1: for a payload built row by row
 * (`src/store/payload_transcoder.ts`). A view into msgpackr's buffer: copy
 * it before the next call that packs.
 */
export function packRow(event: LogEvent, b: number): Uint8Array {
  const bound = (event as BoundEvent)[BOUND_FIELDS];
  let fields = bound === undefined ? event.fields : bound[1];
  if (hasWtf8Strings(fields)) {
    return packr.pack([
      event.ts_ms,
      event.severity,
      escapeString(event.event),
      escapeString(event.producer),
      event.seq,
      b,
      escapeValue(fields),
    ]);
  }
  if (fieldsNeedEscape(fields)) fields = escapeValue(fields) as Record<string, unknown>;
  return packr.pack([
    event.ts_ms,
    event.severity,
    event.event,
    event.producer,
    event.seq,
    b,
    fields,
  ]);
}

/**
 * The `bindings` array of a payload, escaped as {@linkcode packEvents} escapes
 * it. A view into msgpackr's buffer: copy it before the next call that packs.
 */
export function packTemplates(templates: readonly Record<string, unknown>[]): Uint8Array {
  return packr.pack(
    templates.map((t) =>
      hasWtf8Strings(t) || fieldsNeedEscape(t) ? escapeValue(t) as Record<string, unknown> : t
    ),
  );
}

/**
 * Unpacks a record payload. Throws a `TypeError` when the payload does not
 * have the documented shape, which an intact record never lacks.
 *
 * @example Unpack what was packed
 * ```ts
 * import { packEvents, unpackEvents } from "./payload_codec.ts";
 * import assert from "node:assert/strict";
 * const event = {
 *   ts_ms: 1, level: "info" as const, severity: 9, event: "e",
 *   producer: "p.1", seq: 1, fields: {},
 * };
 * assert.deepEqual(unpackEvents(packEvents([event])), [event]);
 * ```
 */
export function unpackEvents(payload: Uint8Array): LogEvent[] {
  const value: unknown = unpackr.unpack(payload);
  if (!Array.isArray(value) || value.length !== 2) throw notPayload();
  const [templates, rows] = value as [unknown, unknown];
  if (!Array.isArray(templates) || !Array.isArray(rows)) throw notPayload();
  const events: LogEvent[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as unknown[];
    if (!Array.isArray(row) || row.length !== 7) throw notPayload();
    const [ts, severity, name, producer, seq, b, call] = row as [
      number,
      number,
      string,
      string,
      number,
      number,
      Record<string, unknown>,
    ];
    if (typeof severity !== "number" || typeof call !== "object" || call === null) {
      throw notPayload();
    }
    let fields = call;
    if (b !== -1) {
      const template = templates[b] as Record<string, unknown> | undefined;
      if (typeof template !== "object" || template === null) throw notPayload();
      // Spread defines own properties, so a "__proto__" key stays a key.
      fields = { ...template, ...call };
    }
    events[i] = {
      ts_ms: ts,
      level: levelOfSeverity(severity),
      severity,
      event: name,
      producer,
      seq,
      fields,
    };
  }
  return events;
}

function notPayload(): TypeError {
  return new TypeError(
    'Record payload is not [bindings, events] as docs/internals.md "Payload" describes',
  );
}

/**
 * The walk over one event's fields, with the common cases (strings, other
 * numbers) tested inline: half the cost of calling {@linkcode needsEscape}
 * per value (39 vs 77 µs per 1,000 workload events).
 */
function fieldsNeedEscape(fields: Record<string, unknown>): boolean {
  for (const key in fields) {
    if (key === "__proto__") return true;
    const value = fields[key];
    if (typeof value === "string") continue;
    if (
      typeof value === "number"
        ? value === 0 && 1 / value < 0
        : typeof value === "object" && value !== null && needsEscape(value)
    ) {
      return true;
    }
  }
  return false;
}

function needsEscape(value: unknown): boolean {
  if (typeof value === "number") return value === 0 && 1 / value < 0;
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (needsEscape(value[i])) return true;
    }
    return false;
  }
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    if (key === "__proto__" || needsEscape((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

function escapeString(value: unknown): unknown {
  return typeof value === "string" && !packsAsIs(value) ? new Wtf8String(value) : value;
}

function escapeValue(value: unknown): unknown {
  if (typeof value === "string") return escapeString(value);
  if (typeof value === "number") return value === 0 && 1 / value < 0 ? NEGATIVE_ZERO : value;
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(escapeValue);
  if (!isPlainObject(value)) return value;
  const source = value as Record<string, unknown>;
  if (Object.hasOwn(source, "__proto__") || !Object.keys(source).every(packsAsIs)) {
    const entries: unknown[] = [];
    for (const key in source) entries.push(escapeString(key), escapeValue(source[key]));
    return new OwnProtoKeyObject(entries);
  }
  const copy: Record<string, unknown> = {};
  for (const key in source) copy[key] = escapeValue(source[key]);
  return copy;
}

/** True when msgpackr gives `s` back unchanged: well-formed, no leading U+FEFF (see the module doc). */
export function packsAsIs(s: string): boolean {
  return s.charCodeAt(0) !== 0xfeff && s.isWellFormed();
}

/** Objects msgpackr packs by their own keys: those of `Object` or with no prototype. */
function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
