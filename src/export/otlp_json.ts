/**
 * The uplink's fast path: an OTLP/HTTP JSON `ExportLogsServiceRequest`
 * written straight into UTF-8 bytes, exactly
 * `new TextEncoder().encode(JSON.stringify(toOtlpLogs(events, options)))`.
 *
 * Building the `LogRecord` objects, stringifying them and encoding the text
 * costs about three times as much (bench/uplink_throughput.ts "stages"):
 * every record is a dozen objects, and a string built from many small pieces
 * is slow to flatten. Here the constant text is copied as bytes, an id or a
 * name is copied as is after a scan finds nothing to escape, and anything
 * unusual (escapes, non-ASCII text, bigints, dates, malformed events) takes
 * the reference path for that value alone, so the bytes cannot differ:
 * `tests/export/otlp_json_test.ts` checks that on random events.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import {
  logRecordOf,
  logSpanContext,
  msToUnixNano,
  type OtlpOptions,
  resourceOf,
  scopeOf,
  SEVERITY_TEXT,
  toAnyValue,
} from "./otlp.ts";
import { traceFlagsOf } from "../trace_context.ts";
import { ByteWriter } from "./byte_writer.ts";

const utf8 = new TextEncoder();

/** The output, with the JSON text writes. */
class Writer extends ByteWriter {
  /** Writes any text as UTF-8 (the escaped or non-ASCII path). */
  utf8(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.reserve(text.length * 3);
    this.pos += utf8.encodeInto(text, this.buf.subarray(this.pos)).written;
  }

  /** Writes `JSON.stringify(text)`. */
  quoted(text: string): void {
    const n = text.length;
    this.reserve(n + 2);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      // Controls, `"`, `\` and anything non-ASCII: JSON.stringify and UTF-8, the whole string.
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) {
        this.utf8(JSON.stringify(text));
        return;
      }
      buf[pos++] = c;
    }
    buf[pos++] = 0x22;
    this.pos = pos;
  }
}

/**
 * One writer reused by every call (one allocation per request: the copy
 * returned); it keeps the size of the largest request written.
 */
const w = new Writer();

/**
 * Encodes `events` like `toOtlpLogs` and returns the UTF-8 bytes of the
 * request's JSON text, the very bytes of
 * `new TextEncoder().encode(JSON.stringify(toOtlpLogs(events, options)))`.
 * Throws a `TypeError` for invalid options.
 *
 * @example The same bytes as the reference path
 * ```ts
 * import { encodeOtlpLogs } from "./otlp_json.ts";
 * import { toOtlpLogs } from "./otlp.ts";
 * import assert from "node:assert/strict";
 * const events = [{
 *   ts_ms: 1.5, level: "info" as const, severity: 9, event: "hi", producer: "p.1", seq: 1,
 *   fields: { run_id: "r", n: 2, tags: ["a", null] },
 * }];
 * const text = new TextDecoder().decode(encodeOtlpLogs(events));
 * assert.equal(text, JSON.stringify(toOtlpLogs(events)));
 * ```
 */
export function encodeOtlpLogs(
  events: readonly LogEvent[],
  options: OtlpOptions = {},
): Uint8Array<ArrayBuffer> {
  const resource = JSON.stringify(resourceOf(options));
  const scope = JSON.stringify(scopeOf(options));
  w.pos = 0;
  prevCount = 0;
  w.ascii('{"resourceLogs":[{"resource":');
  w.utf8(resource);
  w.ascii(',"scopeLogs":[{"scope":');
  w.utf8(scope);
  w.ascii(',"logRecords":[');
  for (let i = 0; i < events.length; i++) {
    if (i > 0) w.byte(COMMA);
    logRecord(events[i]!);
  }
  w.ascii("]}]}]}");
  const out = w.buf.slice(0, w.pos);
  w.pos = 0;
  prevCount = 0;
  prevValues.length = 0; // holds no event's values past the call
  return out;
}

/** Constant JSON text, encoded once. */
const lit = (text: string): Uint8Array => utf8.encode(text);
const TIME = lit('{"timeUnixNano":"');
const OBSERVED = lit('","observedTimeUnixNano":"');
const SEVERITY = lit('","severityNumber":');
const SEVERITY_TEXT_KEY = lit(',"severityText":');
const BODY = lit(',"body":{"stringValue":');
const EVENT_NAME = lit('},"eventName":');
const ATTRIBUTES = lit(',"attributes":[');
const KEY = lit('{"key":');
const VALUE = lit(',"value":');
const VALUE_STRING = lit(',"value":{"stringValue":');
const CLOSE_ATTRIBUTE = lit("},");
const CLOSE_STRING_ATTRIBUTE = lit("}},");
const UID = lit('{"key":"log.record.uid","value":{"stringValue":');
const END_ATTRIBUTES = lit('}}],"droppedAttributesCount":0');
const FLAGS = lit(',"flags":');
const TRACE = lit(',"traceId":"');
const SPAN = lit('","spanId":"');
const END_SPAN = lit('"}');
const STRING_VALUE = lit('{"stringValue":');
const TRUE = lit('{"boolValue":true}');
const FALSE = lit('{"boolValue":false}');
const INT = lit('{"intValue":"');
const DOUBLE = lit('{"doubleValue":');
const NAN = lit('{"doubleValue":"NaN"}');
const INFINITY = lit('{"doubleValue":"Infinity"}');
const MINUS_INFINITY = lit('{"doubleValue":"-Infinity"}');
const ARRAY = lit('{"arrayValue":{"values":[');
const KVLIST = lit('{"kvlistValue":{"values":[');
const END_LIST = lit("]}}");
const CLOSE = 0x7d; // }
const COMMA = 0x2c; // ,
const QUOTE = 0x22; // "

function logRecord(event: LogEvent): void {
  const { ts_ms, severity, level, event: name, fields } = event;
  const severityText = SEVERITY_TEXT[level] ?? String(level).toUpperCase();
  if (
    typeof ts_ms !== "number" || typeof severity !== "number" || !Number.isFinite(severity) ||
    typeof name !== "string" || typeof fields !== "object" || fields === null ||
    typeof severityText !== "string"
  ) {
    // Not a well-formed event (a direct caller's): the reference path, same bytes.
    w.utf8(JSON.stringify(logRecordOf(event)));
    return;
  }
  const time = msToUnixNano(ts_ms);
  w.bytes(TIME);
  w.ascii(time);
  w.bytes(OBSERVED);
  w.ascii(time);
  w.bytes(SEVERITY);
  w.ascii(String(severity));
  w.bytes(SEVERITY_TEXT_KEY);
  w.quoted(severityText);
  w.bytes(BODY);
  w.quoted(name);
  w.bytes(EVENT_NAME);
  w.quoted(name);
  w.bytes(ATTRIBUTES);
  attributes(fields);
  w.bytes(UID);
  w.quoted(`${event.producer}:${event.seq}`);
  w.bytes(END_ATTRIBUTES);
  const context = logSpanContext(fields);
  if (context === null) {
    w.byte(CLOSE);
    return;
  }
  w.bytes(FLAGS);
  w.ascii(String(traceFlagsOf(fields, context.trace_id)));
  // Ids are lowercase hex: nothing to escape.
  w.bytes(TRACE);
  w.ascii(context.trace_id);
  w.bytes(SPAN);
  w.ascii(context.span_id);
  w.bytes(END_SPAN);
}

/**
 * The attributes of the previous record of this request: key, value, and
 * where its `KeyValue` text starts in the buffer (`prevStart[i + 1]` is
 * where it ends). A flow's events repeat their bound fields, in the same
 * order, so a run of attributes equal to the previous record's is copied
 * from it with one `copyWithin`: a third of the cost of the workload event.
 */
const prevKeys: string[] = [];
const prevValues: unknown[] = [];
const prevStart: number[] = [0];
let prevCount = 0;

/** Writes the `KeyValue`s of `fields`, each followed by a comma. */
function attributes(fields: Record<string, unknown>): void {
  const keys = Object.keys(fields);
  const n = keys.length;
  // Starts of this record's attributes, kept in a scratch array until the end.
  const starts = scratchStarts;
  let runFrom = -1; // first attribute of the pending copy, or -1
  let runTo = -1;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    const value = fields[key];
    // Only primitives: equal (===) primitives write the same text; objects may have changed.
    const same = i < prevCount && key === prevKeys[i] && value === prevValues[i] &&
      (typeof value === "string" || typeof value === "number" || typeof value === "boolean");
    if (same && runFrom !== -1 && runTo === i - 1) {
      runTo = i;
      continue;
    }
    if (runFrom !== -1) copyRun(runFrom, runTo, starts);
    runFrom = -1;
    if (same) {
      runFrom = runTo = i;
      continue;
    }
    starts[i] = w.pos;
    w.bytes(KEY);
    w.quoted(key);
    if (typeof value === "string") {
      // The usual attribute, in three copies instead of five.
      w.bytes(VALUE_STRING);
      w.quoted(value);
      w.bytes(CLOSE_STRING_ATTRIBUTE);
    } else {
      w.bytes(VALUE);
      anyValue(value, 0);
      w.bytes(CLOSE_ATTRIBUTE);
    }
  }
  if (runFrom !== -1) copyRun(runFrom, runTo, starts);
  starts[n] = w.pos;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    prevKeys[i] = key;
    prevValues[i] = fields[key];
    prevStart[i] = starts[i]!;
  }
  prevStart[n] = starts[n]!;
  prevCount = n;
}

const scratchStarts: number[] = [];

/** Copies the previous record's attributes `from`..`to` (their text is contiguous). */
function copyRun(from: number, to: number, starts: number[]): void {
  const src = prevStart[from]!;
  const end = prevStart[to + 1]!;
  const len = end - src;
  w.reserve(len);
  const at = w.pos;
  w.buf.copyWithin(at, src, end);
  w.pos = at + len;
  for (let k = from; k <= to; k++) starts[k] = at + (prevStart[k]! - src);
}

/** Writes `JSON.stringify(toAnyValue(value, depth))`. */
function anyValue(value: unknown, depth: number): void {
  switch (typeof value) {
    case "string":
      w.bytes(STRING_VALUE);
      w.quoted(value);
      w.byte(CLOSE);
      return;
    case "boolean":
      w.bytes(value ? TRUE : FALSE);
      return;
    case "number":
      if (Number.isSafeInteger(value)) {
        w.bytes(INT);
        w.ascii(String(value));
        w.byte(QUOTE);
        w.byte(CLOSE);
      } else if (Number.isFinite(value)) {
        w.bytes(DOUBLE);
        w.ascii(String(value));
        w.byte(CLOSE);
      } else {
        w.bytes(Number.isNaN(value) ? NAN : value > 0 ? INFINITY : MINUS_INFINITY);
      }
      return;
    case "object": {
      if (value === null || value instanceof Date || depth >= 32) break;
      if (Array.isArray(value)) {
        w.bytes(ARRAY);
        for (let i = 0; i < value.length; i++) {
          if (i > 0) w.byte(COMMA);
          anyValue(value[i], depth + 1);
        }
        w.bytes(END_LIST);
        return;
      }
      w.bytes(KVLIST);
      let first = true;
      for (const key of Object.keys(value)) {
        if (!first) w.byte(COMMA);
        first = false;
        w.bytes(KEY);
        w.quoted(key);
        w.bytes(VALUE);
        anyValue((value as Record<string, unknown>)[key], depth + 1);
        w.byte(CLOSE);
      }
      w.bytes(END_LIST);
      return;
    }
  }
  // null, dates, deep values, bigints, undefined, functions, symbols: rare, the reference path.
  w.utf8(JSON.stringify(toAnyValue(value, depth)));
}
