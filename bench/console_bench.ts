/**
 * The consumer-side work added per persisted event by console output and
 * metrics (`src/sinks/console_format.ts`, `src/sinks/console_sink.ts`,
 * `src/sinks/flow_metrics.ts`), on batches of 1,000 decoded events of the shared
 * workload (7 correlation ids + 2 call fields), as the worker sees them.
 *
 * Group `console format`: the text format, with and without colors, and the
 * JSON format, against a plain `JSON.stringify` per event (the baseline: what
 * a JSON logger does, without the escaping of U+2028/2029, C1 and bidi
 * characters); plus the text format on events whose values all need quoting
 * and escaping. Group `metrics`: `FlowMetrics.observe` on the same batch, on
 * a batch of lifecycle `step_end` events, and the Prometheus render.
 *
 * Run with `deno task bench` (or `deno bench bench/console_bench.ts`).
 *
 * @module
 */
import { formatJson, formatText } from "../src/sinks/console_format.ts";
import { ConsoleSink } from "../src/sinks/console_sink.ts";
import { FlowMetrics } from "../src/sinks/flow_metrics.ts";
import { callFields, decodedBatch } from "./_workload.ts";

const typical = decodedBatch(callFields);
const hostile = decodedBatch((i) => ({
  duration_ms: i,
  status: `line\nbreak ${i}`,
  note: "\x1b[31mred\x1b[0m \u2028 \u202eevil",
}));
const lifecycle = decodedBatch(
  (i) => ({ ...callFields(i), status: i % 10 === 0 ? "failed" : "ok" }),
  "step_end",
);

let bytes = 0;
const sink = new ConsoleSink(
  { format: "text", minSeverity: 1, colors: false, time: false, startMs: 0, stream: "stderr" },
  (t) => (bytes += t.length),
);

Deno.bench({
  group: "console format",
  name: "JSON.stringify per event (no escaping beyond JSON), 1,000 events",
  baseline: true,
  fn() {
    for (const ev of typical) bytes += JSON.stringify(ev).length;
  },
});

Deno.bench({
  group: "console format",
  name: "formatText, 1,000 events",
  fn() {
    for (const ev of typical) bytes += formatText(ev).length;
  },
});

Deno.bench({
  group: "console format",
  name: "formatText with colors, 1,000 events",
  fn() {
    for (const ev of typical) bytes += formatText(ev, { colors: true }).length;
  },
});

Deno.bench({
  group: "console format",
  name: "formatJson, 1,000 events",
  fn() {
    for (const ev of typical) bytes += formatJson(ev).length;
  },
});

Deno.bench({
  group: "console format",
  name: "formatText, 1,000 events whose values all need escaping",
  fn() {
    for (const ev of hostile) bytes += formatText(ev).length;
  },
});

Deno.bench({
  group: "console format",
  name: "ConsoleSink.observe (text, one string per batch, write discarded), 1,000 events",
  fn() {
    sink.observe(typical);
  },
});

const metrics = new FlowMetrics();

const toolCalls = typical.map((e) => ({ ...e, event: "tool_call" }));
Deno.bench({
  group: "metrics",
  name: "FlowMetrics.observe, 1,000 non-lifecycle events",
  baseline: true,
  fn() {
    metrics.observe(toolCalls);
  },
});

Deno.bench({
  group: "metrics",
  name: "FlowMetrics.observe, 1,000 step_end events",
  fn() {
    metrics.observe(lifecycle);
  },
});

Deno.bench({
  group: "metrics",
  name: "FlowMetrics.render (Prometheus text)",
  fn() {
    bytes += metrics.render({ dropped: 0, rings: [{ producer: "p.0", used: 0, capacity: 1 }] })
      .length;
  },
});

globalThis.addEventListener("unload", () => {
  if (bytes < 0) console.log(bytes); // keeps the work observable
});
