/**
 * A reader of the console text format, for tests: splits one line into its
 * event name and key/value tokens, decoding quoted tokens with `JSON.parse`
 * and keeping a JSON object or array value as its text (it runs to its
 * matching bracket, outside JSON strings). Throws on anything the format
 * does not produce.
 *
 * @module
 */

import type { ConsoleConfig } from "../../src/sinks/console_sink.ts";

/** A console of plain text lines, every level, no colors nor time: the easiest to read back. */
export const PLAIN_CONSOLE: ConsoleConfig = {
  format: "text",
  minSeverity: 1,
  colors: false,
  time: false,
  startMs: 0,
  stream: "stderr",
};

/** Every character sequence a reader may take as a line break. */
export const LINE_BREAK = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/;

/**
 * Strings that try to forge lines, move the cursor, recolor or reorder text,
 * or break quoting: CR, LF, U+2028/2029, NUL, ANSI escapes, bidi overrides,
 * lone surrogates (written escaped, they decode back to themselves), a tag
 * character, markup and the empty string.
 */
export const HOSTILE: readonly string[] = [
  "two words",
  "a\nrun_end status=ok",
  "\r\x1b[2K\x1b[1Afake",
  "\u2028sep\u2029",
  "\u202eevil\u202c",
  '" quote="\\',
  "nul\0byte\x7f\x9b31m",
  "\ud800lone",
  "end\udc00",
  "emoji 🚀 \u{e0041}",
  "<script>alert(1)</script><img src=x onerror=alert(2)>",
  "",
];

/** Characters that must never appear raw in output meant as lines of text. */
export const UNSAFE_RAW = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

// The end of the JSON object or array at `pos`, found by its brackets.
function jsonEnd(line: string, pos: number): number {
  let depth = 0;
  let i = pos;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '"') {
      i++;
      while (i < line.length && line[i] !== '"') i += line[i] === "\\" ? 2 : 1;
    } else if (c === "{" || c === "[") {
      depth++;
    } else if (c === "}" || c === "]") {
      if (--depth === 0) return i + 1;
    }
    i++;
  }
  throw new Error(`Unterminated JSON value at ${pos}: ${line}`);
}

function token(line: string, pos: number, stops: string): [string, number] {
  if (stops === " " && (line[pos] === "{" || line[pos] === "[")) {
    const end = jsonEnd(line, pos);
    JSON.parse(line.slice(pos, end));
    return [line.slice(pos, end), end];
  }
  if (line[pos] === '"') {
    let i = pos + 1;
    while (i < line.length && line[i] !== '"') i += line[i] === "\\" ? 2 : 1;
    if (i >= line.length) throw new Error(`Unterminated quoted token at ${pos}: ${line}`);
    return [JSON.parse(line.slice(pos, i + 1)) as string, i + 1];
  }
  let i = pos;
  while (i < line.length && !stops.includes(line[i]!)) i++;
  if (i === pos) throw new Error(`Empty token at ${pos}: ${line}`);
  return [line.slice(pos, i), i];
}

/** `[event, [[key, valueText], ...]]` of one text line. */
export function parseTextLine(line: string): [string, [string, string][]] {
  const [event, after] = token(line, 0, " ");
  const pairs: [string, string][] = [];
  let pos = after;
  while (pos < line.length) {
    if (line[pos] !== " ") throw new Error(`Expected a space at ${pos}: ${line}`);
    const [key, k] = token(line, pos + 1, "= ");
    if (line[k] !== "=") throw new Error(`Expected = at ${k}: ${line}`);
    const [value, v] = token(line, k + 1, " ");
    pairs.push([key, value]);
    pos = v;
  }
  return [event, pairs];
}

/** The ISO 8601 UTC time with milliseconds that starts a console line. */
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** `[time, event, [[key, valueText], ...]]` of one console text line (time first). */
export function parseConsoleLine(line: string): [string, string, [string, string][]] {
  const space = line.indexOf(" ");
  if (space <= 0) throw new Error(`Expected a time, then a space: ${line}`);
  return [line.slice(0, space), ...parseTextLine(line.slice(space + 1))];
}
