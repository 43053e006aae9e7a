/**
 * One event as a line of text: `<ISO time> <LEVEL> <event> key=value ...`,
 * the `event key=value` shape of text logs, colored by level on a terminal.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { escapeJsonText, quoteText } from "../sinks/console_format.ts";
import { eventToJson } from "../export/jsonl.ts";
import { isoTime, paint } from "./_common.ts";

const LEVEL_COLOR = {
  trace: "gray",
  debug: "gray",
  info: "blue",
  warn: "yellow",
  error: "red",
  fatal: "magenta",
} as const;

function valueText(value: unknown): string {
  // The console's quoting: a line break, an ANSI escape or a bidi control in
  // a value is written escaped, so one event stays one inert line.
  if (typeof value === "string") return quoteText(value);
  if (typeof value === "bigint") return String(value);
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (value === undefined) return "undefined";
  try {
    return escapeJsonText(JSON.stringify(value) ?? String(value));
  } catch {
    return quoteText(String(value));
  }
}

/** The event as one line of text (no newline). */
export function eventToText(event: LogEvent, color: boolean): string {
  const level = event.level.toUpperCase().padEnd(5);
  let line = `${paint(color, "gray", isoTime(event.ts_ms))} ${
    paint(color, LEVEL_COLOR[event.level] ?? "gray", level)
  } ${quoteText(event.event)}`;
  for (const key of Object.keys(event.fields)) {
    line += ` ${paint(color, "gray", quoteText(key) + "=")}${valueText(event.fields[key])}`;
  }
  return line;
}

/** Output formats of `query` and `tail`. */
export type EventFormat = "text" | "json" | "jsonl";

/** Writes events one by one in a format; `json` is one array, opened and closed by `begin`/`end`. */
export class EventWriter {
  #first = true;
  constructor(
    readonly format: EventFormat,
    readonly color: boolean,
    readonly write: (text: string) => void,
  ) {}

  /** Starts the output. */
  begin(): void {
    if (this.format === "json") this.write("[");
  }

  /** Writes one event. */
  event(event: LogEvent): void {
    if (this.format === "text") this.write(eventToText(event, this.color) + "\n");
    else if (this.format === "jsonl") this.write(eventToJson(event) + "\n");
    else {
      this.write((this.#first ? "\n" : ",\n") + eventToJson(event));
      this.#first = false;
    }
  }

  /** Ends the output. */
  end(): void {
    if (this.format === "json") this.write(this.#first ? "]\n" : "\n]\n");
  }
}
