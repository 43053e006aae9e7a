/**
 * Events as JSON: one {@linkcode LogEvent} object per line (JSON Lines), or
 * straight from a record payload without building the events first.
 *
 * An event is written as `{"ts_ms", "level", "severity", "event", "producer",
 * "seq", "fields"}`. JSON has no `undefined`, NaN, ±Infinity or -0, so
 * `undefined` fields are left out, NaN and ±Infinity become `null`, -0 becomes
 * `0`; bigints become decimal strings and Dates ISO 8601 strings.
 *
 * @module
 */
import { Unpackr } from "msgpackr/unpack";
import type { LogEvent } from "../event.ts";
import { levelOfSeverity, LEVELS } from "../level.ts";
import { escapeJsonText } from "../sinks/console_format.ts";
// Registers the payload's msgpack extensions (-0, own `__proto__` keys) for this unpacker too.
import "../store/payload_codec.ts";

const unpackr = new Unpackr({ useRecords: true, copyBuffers: true });

function bigintsAsStrings(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * `JSON.stringify`, with bigints as decimal strings. The replacer is only
 * used after a bigint made the plain call throw: it slows every value down.
 */
function stringify(value: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(value) ?? "null";
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    json = JSON.stringify(value, bigintsAsStrings) ?? "null";
  }
  // U+2028/2029, C1 and bidi controls stay raw in JSON.stringify's output:
  // escaped, a line is one line for every reader and inert on a terminal.
  return escapeJsonText(json);
}

/** Printable ASCII without `"` or `\\`: quoted as is, as `JSON.stringify` would. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A string as JSON; the common plain case skips `JSON.stringify` (bench/cli_figures.ts "export"). */
function quote(value: unknown): string {
  return typeof value === "string" && PLAIN.test(value) ? `"${value}"` : stringify(value);
}

function number(value: unknown): string {
  return typeof value === "number" && Number.isFinite(value) ? String(value) : "null";
}

/**
 * One event as a JSON object (no newline), in the field order of
 * {@linkcode LogEvent}.
 *
 * @example An event with a bigint
 * ```ts
 * import { eventToJson } from "./jsonl.ts";
 * import assert from "node:assert/strict";
 * const json = eventToJson({
 *   ts_ms: 1.5, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1,
 *   fields: { big: 2n ** 70n, nan: NaN },
 * });
 * assert.equal(json, '{"ts_ms":1.5,"level":"info","severity":9,"event":"e","producer":"p.1","seq":1,"fields":{"big":"1180591620717411303424","nan":null}}');
 * ```
 */
export function eventToJson(event: LogEvent): string {
  return `{"ts_ms":${number(event.ts_ms)},"level":${stringify(event.level)},"severity":${
    number(event.severity)
  },"event":${stringify(event.event)},"producer":${stringify(event.producer)},"seq":${
    number(event.seq)
  },"fields":${stringify(event.fields)}}`;
}

const LEVEL_JSON = new Map(LEVELS.map((level) => [level, `"${level}"`]));

/**
 * The events of one record payload as JSON Lines (each line ends with `\n`),
 * the same text {@linkcode eventToJson} gives for each event of
 * `unpackEvents(payload)`, faster: a record's bindings are
 * written to JSON once and spliced into each of their events, and
 * plain names are quoted without `JSON.stringify` (bench/cli_figures.ts "export").
 * Throws a `TypeError` when the payload is not a record payload.
 *
 * @example Two events of one record
 * ```ts
 * import { payloadToJsonLines } from "./jsonl.ts";
 * import { packEvents } from "../store/payload_codec.ts";
 * import assert from "node:assert/strict";
 * const event = (seq: number) => ({
 *   ts_ms: seq, level: "info" as const, severity: 9, event: "e", producer: "p.1", seq,
 *   fields: { n: seq },
 * });
 * const lines = payloadToJsonLines(packEvents([event(1), event(2)])).split("\n");
 * assert.equal(lines.length, 3);
 * assert.deepEqual(JSON.parse(lines[1]!), event(2));
 * ```
 */
export function payloadToJsonLines(payload: Uint8Array): string {
  const value: unknown = unpackr.unpack(payload);
  if (!Array.isArray(value) || value.length !== 2) throw notPayload();
  const [templates, rows] = value as [unknown, unknown];
  if (!Array.isArray(templates) || !Array.isArray(rows)) throw notPayload();
  // JSON of each template without its closing brace ("" for an empty one); filled on first use.
  const templateJson: (string | undefined)[] = new Array(templates.length);
  let out = "";
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as unknown[];
    if (!Array.isArray(row) || row.length !== 7) throw notPayload();
    const ts = row[0];
    const severity = row[1];
    const call = row[6] as Record<string, unknown>;
    const b = row[5];
    if (typeof severity !== "number" || typeof call !== "object" || call === null) {
      throw notPayload();
    }
    let fields: string;
    if (b === -1) {
      fields = stringify(call);
    } else {
      const template = templates[b as number] as Record<string, unknown> | undefined;
      if (typeof template !== "object" || template === null) throw notPayload();
      let overlap = false;
      let empty = true;
      for (const key in call) {
        empty = false;
        // An integer-like key is ordered before the others in the merged object: splice no more.
        const c = key.charCodeAt(0);
        if (Object.hasOwn(template, key) || (c >= 48 && c <= 57)) {
          overlap = true;
          break;
        }
      }
      if (overlap) {
        fields = stringify({ ...template, ...call });
      } else {
        let head = templateJson[b as number];
        if (head === undefined) {
          const json = stringify(template);
          head = templateJson[b as number] = json === "{}" ? "" : json.slice(0, -1);
        }
        if (head === "") fields = stringify(call);
        else if (empty) fields = head + "}";
        else {
          const callJson = stringify(call);
          // A call whose fields are all undefined writes "{}": nothing to splice.
          fields = callJson === "{}" ? head + "}" : head + "," + callJson.slice(1);
        }
      }
    }
    out += `{"ts_ms":${number(ts)},"level":${
      LEVEL_JSON.get(levelOfSeverity(severity))
    },"severity":${number(severity)},"event":${quote(row[2])},"producer":${quote(row[3])},"seq":${
      number(row[4])
    },"fields":${fields}}\n`;
  }
  return out;
}

function notPayload(): TypeError {
  return new TypeError(
    'Record payload is not [bindings, events] as docs/internals.md "Payload" describes',
  );
}
