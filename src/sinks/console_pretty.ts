/**
 * The `pretty` console format, for a person at a terminal:
 *
 * ```text
 * ── flow_id=demo run_id=r-1
 * 2026-01-02T03:04:05.678Z INFO  run_start mode=fast
 * 2026-01-02T03:04:05.912Z ERROR step_failed err={"name":"Error","message":"boom"}
 *     err: Error: boom
 *         at step (file:///app.ts:3:9)
 * ```
 *
 * - An event line is the time (as in the text format), the level in five
 *   columns (in color on a terminal), the event name, then the fields that
 *   are not bound correlation ids, as text-format tokens (src/sinks/console_format.ts).
 * - A child logger's (or `withContext()`'s) bound correlation ids
 *   ({@linkcode BOUND_IDS}) are written once, on a header line that starts
 *   with `──`, each time they change from one line to the next; an event
 *   without any after one with some gets `── (no bound ids)`.
 * - The stack of an error-like field value (an object with string `message`
 *   and `stack`, as the redactor copies an `Error`) and of its `cause` chain
 *   follow on their own lines, indented by at least four spaces; the value on
 *   the event line is the error without its stacks.
 *
 * Every token is escaped as in the text format and every stack line by
 * `escapeControls`, so a line that does not start with a time or `──` starts
 * with a space, and none can be forged by a value.
 *
 * @module
 */
import { BOUND_FIELDS, type BoundEvent, CORRELATION_FIELDS, type LogEvent } from "../event.ts";
import type { LevelName } from "../level.ts";
import {
  type ConsoleTime,
  DIM,
  escapeControls,
  formatTime,
  LEVEL_COLORS,
  quoteText,
  RESET,
  textKey,
  textValue,
} from "./console_format.ts";

/**
 * The bound fields a pretty header carries: the first-class correlation ids
 * and the W3C trace context headers `withContext()` binds.
 */
export const BOUND_IDS: ReadonlySet<string> = new Set([
  ...CORRELATION_FIELDS,
  "traceparent",
  "tracestate",
]);

/** Options of a {@linkcode PrettyFormatter}. */
export interface PrettyOptions {
  /** ANSI colors: the level by severity, the time, keys and stacks dimmed. */
  colors: boolean;
  /** The time that starts an event line. */
  time: ConsoleTime;
  /** Where `time: "elapsed"` counts from (milliseconds since the Unix epoch). */
  startMs: number;
}

const LEVEL_LABELS: Readonly<Record<LevelName, string>> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO ",
  warn: "WARN ",
  error: "ERROR",
  fatal: "FATAL",
};

// A child logger's bindings are one shared object: what the header and the
// rest of the line take from it is worked out once per object.
interface BindingsSplit {
  /** The header line's text after `── `, uncolored; "" without bound ids. */
  header: string;
  /** The bindings that are not ids. */
  rest: Record<string, unknown> | null;
}

const NO_IDS = "";
const UNBOUND_HEADER = "(no bound ids)";
// A redactor copy is at most 6 levels deep; this bounds a hand-built cycle.
const MAX_CAUSES = 8;

/**
 * Formats events in the pretty format. Stateful (it remembers the last
 * header), so one formatter serves one output stream.
 *
 * @example A flow's header once, then its events
 * ```ts
 * import { PrettyFormatter } from "./console_pretty.ts";
 * import { BoundLogEvent } from "../event.ts";
 * import assert from "node:assert/strict";
 *
 * const pretty = new PrettyFormatter({ colors: false, time: false, startMs: 0 });
 * const bindings = { flow_id: "demo", run_id: "r-1", component: "db" };
 * const ev = (event: string, call: Record<string, unknown>) =>
 *   new BoundLogEvent(0, "info", 9, event, "p.0", 1, bindings, call);
 * assert.equal(
 *   pretty.format(ev("run_start", { mode: "fast" })),
 *   "── flow_id=demo run_id=r-1\nINFO  run_start component=db mode=fast",
 * );
 * assert.equal(pretty.format(ev("query", { rows: 3 })), "INFO  query component=db rows=3");
 * ```
 */
export class PrettyFormatter {
  readonly #colors: boolean;
  readonly #time: ConsoleTime;
  readonly #startMs: number;
  readonly #splits = new WeakMap<object, BindingsSplit>();
  #lastHeader = NO_IDS;

  constructor(options: PrettyOptions) {
    this.#colors = options.colors;
    this.#time = options.time;
    this.#startMs = options.startMs;
  }

  /**
   * One event as its lines, joined by `\n`, without a final line break: a
   * header when the bound ids changed, the event line, then any stacks.
   */
  format(event: LogEvent): string {
    const colors = this.#colors;
    const bound = (event as BoundEvent)[BOUND_FIELDS];
    let header = NO_IDS;
    let out = "";
    const stacks: string[] = [];
    let line = "";
    const time = formatTime(event.ts_ms, this.#time, this.#startMs);
    if (time !== "") line = colors ? DIM + time + RESET + " " : time + " ";
    line += colors
      ? LEVEL_COLORS[event.level] + LEVEL_LABELS[event.level] + RESET
      : LEVEL_LABELS[event.level];
    line += " " + quoteText(event.event);
    if (bound === undefined) {
      line += this.#pairs(event.fields, stacks);
    } else {
      const [bindings, call] = bound;
      // A call field named like a binding replaces it: a bound id becomes
      // the event's own value, shown on its line.
      const split = overlaps(bindings, call)
        ? splitBindings(bindings, call)
        : this.#split(bindings);
      header = split.header;
      if (split.rest !== null) line += this.#pairs(split.rest, stacks);
      line += this.#pairs(call, stacks);
    }
    if (header !== this.#lastHeader) {
      const text = "── " + (header === NO_IDS ? UNBOUND_HEADER : header);
      out = (colors ? DIM + text + RESET : text) + "\n";
      this.#lastHeader = header;
    }
    out += line;
    // An empty stack gives no line: never an empty line after the event.
    if (stacks.length > 0) out += "\n" + stacks.join("\n");
    return out;
  }

  // ` key=value` pairs; an error-like value is written without its stacks,
  // whose lines go to `stacks`.
  #pairs(fields: Record<string, unknown>, stacks: string[]): string {
    const colors = this.#colors;
    let out = "";
    for (const key in fields) {
      if (!Object.hasOwn(fields, key)) continue;
      const value = fields[key];
      const k = textKey(key);
      out += colors ? ` ${DIM}${k}=${RESET}` : ` ${k}=`;
      if (isErrorLike(value)) {
        out += textValue(withoutStacks(value));
        stacks.push(...stackLines(value, key, colors));
      } else {
        out += textValue(value);
      }
    }
    return out;
  }

  #split(bindings: Record<string, unknown>): BindingsSplit {
    let split = this.#splits.get(bindings);
    if (split === undefined) this.#splits.set(bindings, split = splitBindings(bindings, null));
    return split;
  }
}

function overlaps(bindings: Record<string, unknown>, call: Record<string, unknown>): boolean {
  for (const key in call) if (Object.hasOwn(call, key) && Object.hasOwn(bindings, key)) return true;
  return false;
}

function splitBindings(
  bindings: Record<string, unknown>,
  call: Record<string, unknown> | null,
): BindingsSplit {
  let header = "";
  let rest: Record<string, unknown> | null = null;
  for (const key in bindings) {
    if (!Object.hasOwn(bindings, key)) continue;
    if (call !== null && Object.hasOwn(call, key)) continue;
    if (BOUND_IDS.has(key)) {
      header += (header === "" ? "" : " ") + textKey(key) + "=" + textValue(bindings[key]);
    } else {
      // Defined as data: a "__proto__" key stays an own key.
      Object.defineProperty(rest ??= {}, key, {
        value: bindings[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return { header, rest };
}

type ErrorLike = Record<string, unknown> & { message: string; stack: string };

function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof (value as ErrorLike).message === "string" &&
    typeof (value as ErrorLike).stack === "string";
}

// The error, and its cause chain, without their stacks (printed apart).
function withoutStacks(err: ErrorLike): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let depth = 0;
  let from: Record<string, unknown> = err;
  let to = out;
  for (;;) {
    let next: ErrorLike | null = null;
    for (const key of Object.keys(from)) {
      if (key === "stack") continue;
      const value = from[key];
      if (key === "cause" && isErrorLike(value) && depth < MAX_CAUSES) {
        next = value;
        continue;
      }
      Object.defineProperty(to, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    if (next === null) return out;
    const cause: Record<string, unknown> = {};
    to.cause = cause;
    to = cause;
    from = next;
    depth++;
  }
}

// Lines of the error's stack, then of each cause's: "    <label>: <first
// line>", then the rest indented by four more spaces than their own.
function stackLines(err: ErrorLike, key: string, colors: boolean): string[] {
  const lines: string[] = [];
  let label = quoteText(key);
  let current: ErrorLike | null = err;
  for (let depth = 0; current !== null && depth <= MAX_CAUSES; depth++) {
    // V8 ends stack lines with \n; any other break is the message's own,
    // escaped on its line.
    const parts = current.stack.split("\n");
    let first = true;
    for (const part of parts) {
      if (part.trim() === "") continue;
      const text = escapeControls(part);
      if (first) {
        lines.push(`    ${label}: ${text}`);
        first = false;
      } else {
        lines.push(colors ? `    ${DIM}${text}${RESET}` : `    ${text}`);
      }
    }
    const cause: unknown = current.cause;
    current = isErrorLike(cause) ? cause : null;
    label += ".cause";
  }
  return lines;
}
