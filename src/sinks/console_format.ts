/**
 * Console line formats, run by the consumer (in the worker, or on the
 * `inline` transport's timer), never in a log call.
 *
 * - **text**: `<time> <event> key=value key=value`, one event per line. The
 *   time is the event's ISO 8601 UTC time with milliseconds, or the time
 *   since the logger started (`+12.345s`), or absent, by option. A key,
 *   event name or value made only of `A-Z a-z 0-9 _ . : / @ + - ,` is written
 *   bare; anything else is written as a JSON string literal (`"..."`) in which
 *   `"`, `\`, every control character (C0, DEL, C1, so CR, LF and ANSI ESC),
 *   the line and paragraph separators U+2028/U+2029, format characters
 *   (bidi overrides and isolates, zero-width characters), non-ASCII spaces and
 *   lone surrogates are escaped. So no value can end a line, start a fake
 *   one, move the cursor, recolor the terminal or reorder what is shown, and
 *   `JSON.parse` of a quoted token gives back the original string. Objects and
 *   arrays (errors included, as the redactor copied them) are written as
 *   their JSON text with the same characters escaped: a value that starts
 *   with `{` or `[` runs to its matching bracket, outside JSON strings. Events
 *   of a level other than `info` carry `level=<name>` right after the event
 *   name; a field named `level` is written `fields.level`, so it cannot pass
 *   for one.
 * - **json**: one JSON object per line: `ts_ms`, `level`, `event`, then the
 *   fields. A field named like one of those three is written as
 *   `fields.<name>`, so it can never replace them. Bigints are written as
 *   decimal strings, `NaN` and `±Infinity` as the strings `"NaN"`,
 *   `"Infinity"`, `"-Infinity"`, Dates as ISO strings. The same characters as
 *   above are escaped as `\uXXXX`.
 * - **pretty** (src/sinks/console_pretty.ts): the text format's tokens laid
 *   out for a terminal.
 *
 * @module
 */
import { BOUND_FIELDS, type BoundEvent, type LogEvent } from "../event.ts";
import type { LevelName } from "../level.ts";

/** The console line formats. */
export type ConsoleFormat = "text" | "json" | "pretty";

/**
 * What starts a text or pretty line: the event's ISO 8601 UTC time with
 * milliseconds, the time since the logger started (`+12.345s`), or nothing.
 */
export type ConsoleTime = "iso" | "elapsed" | false;

/** Options of {@linkcode formatText}. */
export interface FormatTextOptions {
  /**
   * Color the event name by level and dim the keys (for a terminal).
   * @default {false}
   */
  colors?: boolean;
  /**
   * The time that starts the line.
   * @default {"iso"}
   */
  time?: ConsoleTime;
  /**
   * Where `time: "elapsed"` counts from, in the events' clock (milliseconds
   * since the Unix epoch).
   * @default {0}
   */
  startMs?: number;
}

// Characters a terminal or log viewer could treat as a line break, a cursor
// or color command, or an invisible reordering: control (Cc), format (Cf:
// bidi overrides, zero-width joiners, tag characters), line and paragraph
// separators (Zl, Zp), lone surrogates (Cs), and spaces other than U+0020.
const UNSAFE_IN_QUOTES =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000"\\]/gu;
const UNSAFE_IN_JSON =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/gu;
const BARE = /^[A-Za-z0-9_.:/@+,-]+$/;

function hex4(code: number): string {
  return "\\u" + code.toString(16).padStart(4, "0");
}

function escapeChar(ch: string): string {
  switch (ch) {
    case '"':
      return '\\"';
    case "\\":
      return "\\\\";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
  }
  // An astral character (a tag character, say) is escaped as its surrogate
  // pair, which JSON.parse turns back into the same character.
  return ch.length === 2 ? hex4(ch.charCodeAt(0)) + hex4(ch.charCodeAt(1)) : hex4(ch.charCodeAt(0));
}

/**
 * Writes `s` as a text-format token: bare when it is made only of safe
 * characters, else as a JSON string literal with every dangerous character
 * escaped (see the module documentation).
 *
 * @example Quote a value that tries to forge a second line
 * ```ts
 * import { quoteText } from "./console_format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(quoteText("ok"), "ok");
 * const forged = quoteText("x\nrun_end status=ok");
 * assert.equal(forged, '"x\\nrun_end status=ok"');
 * assert.equal(JSON.parse(forged), "x\nrun_end status=ok");
 * ```
 */
export function quoteText(s: string): string {
  if (BARE.test(s)) return s;
  return '"' + s.replace(UNSAFE_IN_QUOTES, escapeChar) + '"';
}

// JSON.stringify replacer: keeps what JSON cannot hold as readable strings.
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return value;
}

// Printable ASCII needs no escaping beyond JSON's own: testing for anything
// else first skips the Unicode-property scan for most values
// (bench/console_bench.ts "formatJson").
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;

/**
 * JSON text with the characters JSON.stringify leaves raw (DEL, C1 controls,
 * U+2028/2029, bidi and other format controls, odd spaces) escaped as
 * `\uXXXX`: still the same JSON value, but one line on every reader and
 * inert on a terminal. Used by the console and the CLI.
 */
export function escapeJsonText(json: string): string {
  // JSON.stringify escapes C0 controls and lone surrogates but leaves DEL, C1,
  // U+2028/2029 and bidi controls raw; outside strings JSON text is ASCII, so
  // any match sits inside a string where \uXXXX is valid.
  return NOT_PRINTABLE_ASCII.test(json) ? json.replace(UNSAFE_IN_JSON, escapeChar) : json;
}

/**
 * `value` as JSON indented by 2, each line escaped by {@linkcode escapeJsonText}
 * (its line breaks are the indentation's: JSON escapes those inside strings).
 */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2).split("\n").map(escapeJsonText).join("\n");
}

/**
 * `s` for display (the CLI's span tree and flow table): each character a
 * terminal or viewer could take as a line break, a control sequence or a
 * reordering written as `\uXXXX` (`\n`, `\r`, `\t`); quotes and
 * backslashes stay as they are.
 */
export function escapeControls(s: string): string {
  return NOT_PRINTABLE_ASCII.test(s) ? s.replace(UNSAFE_IN_JSON, escapeChar) : s;
}

/** JSON text of a decoded value, with the unsafe characters escaped. */
function safeJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return escapeJsonText(JSON.stringify(value));
    case "number":
      return Number.isFinite(value) ? String(value) : `"${value}"`;
    case "boolean":
      return String(value);
    case "bigint":
      return `"${value}"`;
    case "undefined":
      return "null";
  }
  // The replacer is only paid for objects and arrays.
  return escapeJsonText(JSON.stringify(value, jsonReplacer) ?? "null");
}

/**
 * One value as a text-format token (also the pretty format's): strings by
 * {@linkcode quoteText}, objects and arrays as escaped JSON text.
 */
export function textValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return quoteText(value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "boolean":
    case "bigint":
    case "undefined":
      return String(value);
    case "object": {
      if (value === null) return "null";
      if (value instanceof Date) {
        return Number.isNaN(value.getTime()) ? "InvalidDate" : value.toISOString();
      }
      // JSON text as it is: a reader finds its end by its brackets, and
      // safeJson leaves no raw line break or control character in it.
      return safeJson(value);
    }
    default:
      return quoteText(String(value));
  }
}

export const RESET = "\x1b[0m";
export const DIM = "\x1b[2m";
export const LEVEL_COLORS: Readonly<Record<LevelName, string>> = {
  trace: "\x1b[90m",
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[1;35m",
};

// The ISO text of the last second seen, without its milliseconds: events
// come in time order, so most lines reuse it instead of building a Date.
let isoSecond = NaN;
let isoHead = "";
// Date's range; beyond it toISOString throws.
const MAX_DATE_MS = 8.64e15;

/**
 * The time that starts a text or pretty line (`""` for `time: false`): ISO
 * 8601 UTC with milliseconds, or `+<seconds>.<ms>s` since `startMs` (`-` for
 * an event stamped before it). A time outside Date's range is written as
 * `InvalidDate`.
 *
 * @example Both forms
 * ```ts
 * import { formatTime } from "./console_format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatTime(1700000000123.9, "iso", 0), "2023-11-14T22:13:20.123Z");
 * assert.equal(formatTime(1700000012345, "elapsed", 1700000000000), "+12.345s");
 * ```
 */
export function formatTime(tsMs: number, time: ConsoleTime, startMs: number): string {
  if (time === false) return "";
  if (time === "elapsed") {
    const d = tsMs - startMs;
    if (!Number.isFinite(d)) return "InvalidDate";
    return (d < 0 ? "-" : "+") + (Math.floor(Math.abs(d)) / 1000).toFixed(3) + "s";
  }
  if (!(Math.abs(tsMs) <= MAX_DATE_MS)) return "InvalidDate";
  const second = Math.floor(tsMs / 1000);
  if (second !== isoSecond) {
    // Strip "mmmZ": the head also holds for years past 9999 ("+010000-...").
    isoHead = new Date(second * 1000).toISOString().slice(0, -4);
    isoSecond = second;
  }
  const ms = Math.floor(tsMs - second * 1000);
  return isoHead + (ms < 10 ? "00" : ms < 100 ? "0" : "") + ms + "Z";
}

/**
 * Formats one event as a text line (without the line break).
 *
 * @param event The persisted event.
 * @param options Time and colors.
 *
 * @example A step end, then a forged line that stays on its own line
 * ```ts
 * import { formatText } from "./console_format.ts";
 * import assert from "node:assert/strict";
 *
 * const base = { ts_ms: 0, severity: 9, level: "info" as const, producer: "p", seq: 1 };
 * const line = formatText({ ...base, event: "step_end", fields: { step_id: "fetch", ms: 12.5 } });
 * assert.equal(line, "1970-01-01T00:00:00.000Z step_end step_id=fetch ms=12.5");
 * const evil = formatText({ ...base, event: "x", fields: { v: "a\r\nstep_end status=ok" } });
 * assert.equal(evil.split(/\r|\n/).length, 1);
 * const bare = formatText({ ...base, event: "x", fields: { err: { message: "no such file" } } }, {
 *   time: false,
 * });
 * assert.equal(bare, 'x err={"message":"no such file"}');
 * ```
 */
export function formatText(event: LogEvent, options: FormatTextOptions = {}): string {
  const colors = options.colors ?? false;
  const time = formatTime(event.ts_ms, options.time ?? "iso", options.startMs ?? 0);
  let line = time === "" ? "" : colors ? DIM + time + RESET + " " : time + " ";
  line += colors
    ? LEVEL_COLORS[event.level] + quoteText(event.event) + RESET
    : quoteText(event.event);
  if (event.level !== "info") {
    line += colors ? ` ${DIM}level=${RESET}${event.level}` : ` level=${event.level}`;
  }
  const bound = (event as BoundEvent)[BOUND_FIELDS];
  if (bound !== undefined && !overlaps(bound[0], bound[1])) {
    // A child logger's bindings object is shared by all its events: its text
    // is built once (bench/console_throughput.ts "formatText").
    const cache = colors ? colorTextCache : textCache;
    let text = cache.get(bound[0]);
    if (text === undefined) cache.set(bound[0], text = textPairs(bound[0], colors));
    return line + text + textPairs(bound[1], colors);
  }
  return line + textPairs(event.fields, colors);
}

const textCache = new WeakMap<object, string>();
const colorTextCache = new WeakMap<object, string>();
const jsonCache = new WeakMap<object, string>();

// A call field named like a binding replaces it in place (merged order), so
// the cached bindings text only applies when no key is shared.
function overlaps(bindings: Record<string, unknown>, call: Record<string, unknown>): boolean {
  for (const key in call) if (Object.hasOwn(bindings, key)) return true;
  return false;
}

// Keys repeat from event to event: their quoted form is kept, bounded
// (bench/console_throughput.ts "formatText", "formatJson").
const KEY_CACHE_MAX = 4096;
const textKeys = new Map<string, string>();
const jsonKeys = new Map<string, string>();

function cachedKey(cache: Map<string, string>, key: string, json: boolean): string {
  let k = cache.get(key);
  if (k === undefined) {
    if (cache.size >= KEY_CACHE_MAX) cache.clear();
    k = json
      ? safeJson(META_KEYS.has(key) ? "fields." + key : key)
      : quoteText(key === "level" ? "fields.level" : key);
    cache.set(key, k);
  }
  return k;
}

/** A key as a text-format token (`level` as `fields.level`), cached. */
export function textKey(key: string): string {
  return cachedKey(textKeys, key, false);
}

function textPairs(fields: Record<string, unknown>, colors: boolean): string {
  let out = "";
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const k = cachedKey(textKeys, key, false);
    out += colors ? ` ${DIM}${k}=${RESET}` : ` ${k}=`;
    out += textValue(fields[key]);
  }
  return out;
}

function jsonPairs(fields: Record<string, unknown>): string {
  let out = "";
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    if (value === undefined) continue;
    out += `,${cachedKey(jsonKeys, key, true)}:${safeJson(value)}`;
  }
  return out;
}

const META_KEYS = new Set(["ts_ms", "level", "event"]);

/**
 * Formats one event as a JSON line (without the line break): `ts_ms`,
 * `level`, `event`, then the fields.
 *
 * @example One object per line
 * ```ts
 * import { formatJson } from "./console_format.ts";
 * import assert from "node:assert/strict";
 *
 * const line = formatJson({
 *   ts_ms: 1700000000000, severity: 9, level: "info", event: "run_start",
 *   producer: "p", seq: 1, fields: { flow_id: "demo", event: "spoof" },
 * });
 * assert.deepEqual(JSON.parse(line), {
 *   ts_ms: 1700000000000, level: "info", event: "run_start",
 *   flow_id: "demo", "fields.event": "spoof",
 * });
 * ```
 */
export function formatJson(event: LogEvent): string {
  const line = `{"ts_ms":${
    Number.isFinite(event.ts_ms) ? event.ts_ms : 0
  },"level":"${event.level}","event":${safeJson(event.event)}`;
  const bound = (event as BoundEvent)[BOUND_FIELDS];
  if (bound !== undefined && !overlaps(bound[0], bound[1])) {
    let text = jsonCache.get(bound[0]);
    if (text === undefined) jsonCache.set(bound[0], text = jsonPairs(bound[0]));
    return line + text + jsonPairs(bound[1]) + "}";
  }
  return line + jsonPairs(event.fields) + "}";
}
