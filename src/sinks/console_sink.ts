/**
 * Writes persisted events to the console, one line per event, in the text or
 * JSON format of `sinks/console_format.ts` or the pretty format of
 * `sinks/console_pretty.ts`. Runs in the consumer: one write per
 * drained batch, never a write per log call on the caller's thread.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import {
  type ConsoleFormat,
  type ConsoleTime,
  formatJson,
  formatText,
  type FormatTextOptions,
} from "./console_format.ts";
import { PrettyFormatter } from "./console_pretty.ts";

/** Resolved console settings, as the consumer receives them (structured-cloneable). */
export interface ConsoleConfig {
  /** Line format. */
  format: ConsoleFormat;
  /** Least severity written (OpenTelemetry severity number). */
  minSeverity: number;
  /** ANSI colors (text and pretty formats). */
  colors: boolean;
  /** What starts a text or pretty line. */
  time: ConsoleTime;
  /** Where `time: "elapsed"` counts from: the logger's start, in its clock. */
  startMs: number;
  /** Where lines go. */
  stream: "stdout" | "stderr";
}

/**
 * Formats batches of events and hands each batch's lines to `write` as one
 * string. A failing `write` is counted, never thrown into the consumer.
 *
 * @example Two events, two lines
 * ```ts
 * import { ConsoleSink } from "./console_sink.ts";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * const sink = new ConsoleSink(
 *   { format: "text", minSeverity: 9, colors: false, time: false, startMs: 0, stream: "stderr" },
 *   (text) => (out += text),
 * );
 * const base = { ts_ms: 0, producer: "p", seq: 1, fields: { flow_id: "f" } };
 * sink.observe([
 *   { ...base, level: "debug", severity: 5, event: "noise" },
 *   { ...base, level: "info", severity: 9, event: "run_start" },
 *   { ...base, level: "warn", severity: 13, event: "slow" },
 * ]);
 * assert.equal(out, "run_start flow_id=f\nslow level=warn flow_id=f\n");
 * ```
 */
export class ConsoleSink {
  readonly config: ConsoleConfig;
  readonly #write: (text: string) => void;
  readonly #text: FormatTextOptions;
  readonly #pretty: PrettyFormatter | null;
  /** Lines written. */
  lines = 0;
  /** Writes that failed (their lines are lost to the console, not to the store). */
  writeErrors = 0;

  constructor(config: ConsoleConfig, write: (text: string) => void) {
    this.config = config;
    this.#write = write;
    this.#text = { colors: config.colors, time: config.time, startMs: config.startMs };
    this.#pretty = config.format === "pretty" ? new PrettyFormatter(config) : null;
  }

  /** Formats and writes the events at or above the threshold. Never throws. */
  observe(events: readonly LogEvent[]): void {
    const { minSeverity, format } = this.config;
    const pretty = this.#pretty;
    let text = "";
    let n = 0;
    for (const ev of events) {
      if (ev.severity < minSeverity) continue;
      try {
        text += (format === "json"
          ? formatJson(ev)
          : pretty !== null
          ? pretty.format(ev)
          : formatText(ev, this.#text)) + "\n";
        n++;
      } catch {
        // Unreachable by design (decoded values are plain data); a bug here
        // must not stop the consumer. Counted as a lost console line.
        this.writeErrors++;
      }
    }
    if (n === 0) return;
    try {
      this.#write(text);
      this.lines += n;
    } catch {
      this.writeErrors++;
    }
  }
}
