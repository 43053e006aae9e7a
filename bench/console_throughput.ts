/**
 * Worker-side formatting throughput, as medians and ratios within one run:
 *
 * 1. Formatters alone: ns per event of `formatText` (with its ISO time,
 *    and without a time), `formatText` with colors, `formatJson` (on plain
 *    events and on a child logger's events, whose shared bindings are
 *    formatted once), the pretty format on a child logger's events, the text format on values that all need escaping,
 *    `FlowMetrics.observe` on lifecycle events, and a plain `JSON.stringify`
 *    per event as the baseline, over batches of 1,000 decoded events of the
 *    shared workload, the candidates interleaved batch by batch.
 * 2. Caller cost: median ns per `info` call of a `sab` logger (8 MiB ring,
 *    emptied after each batch of 1,000, so no call finds it full) with
 *    console output and metrics off and on, loggers interleaved batch by batch:
 *    formatting runs in the worker, so the caller's cost must not change.
 * 3. End to end: events/s persisted by a `sab` logger (`overflow: "block"`,
 *    lossless) with console text output on (stderr, redirect it to /dev/null)
 *    against the same logger with it off and with `metrics: true`, rounds
 *    interleaved.
 *
 * Run: `deno run --allow-read --allow-write --allow-env bench/console_throughput.ts 2>/dev/null`
 *
 * @module
 */
import type { LoggerOptions } from "../mod.ts";
import { formatJson, formatText } from "../src/sinks/console_format.ts";
import { PrettyFormatter } from "../src/sinks/console_pretty.ts";
import { FlowMetrics } from "../src/sinks/flow_metrics.ts";
import {
  BATCH,
  BATCHES,
  BINDINGS,
  boundEvent,
  CALLER_RING,
  callFields,
  decodedBatch,
  emitTimed,
  fmt,
  fmtInt,
  header,
  infoLoop,
  interleave,
  median,
  openFlow,
  table,
  WARMUP,
  withTempDir,
} from "./_workload.ts";

const FORMAT_BATCHES = 300;
const E2E_EVENTS = 200_000;
const E2E_ROUNDS = 5;

const typical = decodedBatch(callFields);
// As the worker decodes a child logger's events: one shared bindings object.
const sharedBindings: Record<string, unknown> = { ...BINDINGS };
const bound = Array.from(
  { length: BATCH },
  (_, i) => boundEvent(i + 1, 1795000000000 + i, sharedBindings, { ...callFields(i) }),
);
const hostile = decodedBatch((i) => ({
  duration_ms: i,
  status: `line\nbreak ${i}`,
  note: "\x1b[31mred\x1b[0m \u2028 \u202eevil",
}));
const lifecycle = decodedBatch((i) => ({ ...callFields(i), job_id: "j", status: "ok" }));

let sink = 0;
const NO_TIME = { time: false } as const;
const pretty = new PrettyFormatter({ colors: false, time: "iso", startMs: 0 });
const metrics = new FlowMetrics();
const candidates: [string, () => void][] = [
  ["JSON.stringify(event) (baseline, no extra escaping)", () => {
    for (const ev of typical) sink += JSON.stringify(ev).length;
  }],
  ["formatText", () => {
    for (const ev of typical) sink += formatText(ev).length;
  }],
  ["formatText, child-logger events (bindings text cached)", () => {
    for (const ev of bound) sink += formatText(ev).length;
  }],
  ["formatText, child-logger events, time: false", () => {
    for (const ev of bound) sink += formatText(ev, NO_TIME).length;
  }],
  ["pretty, child-logger events", () => {
    for (const ev of bound) sink += pretty.format(ev).length;
  }],
  ["formatText, colors", () => {
    for (const ev of typical) sink += formatText(ev, { colors: true }).length;
  }],
  ["formatJson", () => {
    for (const ev of typical) sink += formatJson(ev).length;
  }],
  ["formatJson, child-logger events (bindings JSON cached)", () => {
    for (const ev of bound) sink += formatJson(ev).length;
  }],
  ["formatText, every value escaped", () => {
    for (const ev of hostile) sink += formatText(ev).length;
  }],
  ["FlowMetrics.observe, step_end events", () => metrics.observe(lifecycle)],
  ["FlowMetrics.observe, step_end child-logger events", () => metrics.observe(bound)],
];

function formatters(): string[][] {
  const samples: number[][] = candidates.map(() => []);
  for (let b = 0; b < WARMUP + FORMAT_BATCHES; b++) {
    for (let c = 0; c < candidates.length; c++) {
      const t0 = performance.now();
      candidates[c]![1]();
      const ns = ((performance.now() - t0) * 1e6) / BATCH;
      if (b >= WARMUP) samples[c]!.push(ns);
    }
  }
  const base = median([...samples[0]!]);
  return candidates.map(([name], c) => {
    const med = median([...samples[c]!]);
    return [name, fmt(med, 0), fmtInt(1e9 / med), fmt(med / base, 2) + "×"];
  });
}

async function endToEnd(options: LoggerOptions): Promise<number> {
  const { ms, stats: s } = await withTempDir((dir) =>
    emitTimed({ dir, overflow: "block", blockTimeoutMs: 10_000, ...options }, E2E_EVENTS)
  );
  if (s.persisted !== E2E_EVENTS) throw new Error(`lost events: ${JSON.stringify(s)}`);
  return (E2E_EVENTS / ms) * 1000;
}

console.log(header("flightlog console/metrics throughput"));
console.log(
  table(
    [
      [
        `per event, batches of 1,000 (median of ${FORMAT_BATCHES})`,
        "ns",
        "events/s",
        "vs baseline",
      ],
      ...formatters(),
    ],
    ["l", "r", "r", "r"],
  ),
);

async function callerCost(configs: [string, LoggerOptions][]): Promise<number[][]> {
  return await withTempDir(async (dir) => {
    const flows = configs.map(([, options], c) =>
      openFlow({ dir: `${dir}/${c}`, ringBytes: CALLER_RING, ...options })
    );
    try {
      // Each logger's ring is emptied right after its own batch.
      return await interleave(flows.map(({ log, flow }) => ({
        loop: (n: number) => infoLoop(flow, n),
        settle: () => log.flush(),
      })));
    } finally {
      for (const { log } of flows) await log.close();
    }
  });
}

const configs: [string, LoggerOptions][] = [
  ["console off, metrics off", {}],
  ["console text on (stderr)", { console: { format: "text" } }],
  ["console json on (stderr)", { console: { format: "json" } }],
  ["metrics on", { metrics: true }],
];
const caller = await callerCost(configs);
const callerOff = median([...caller[0]!]);
console.log(
  "\n" + table(
    [
      [`caller cost, sab, info call (median of ${BATCHES} batches)`, "ns/call", "vs off"],
      ...configs.map(([name], c) => {
        const m = median([...caller[c]!]);
        return [name, fmt(m, 0), fmt(m / callerOff, 2) + "×"];
      }),
    ],
    ["l", "r", "r"],
  ),
);

const rates: number[][] = configs.map(() => []);
for (let r = 0; r < E2E_ROUNDS; r++) {
  // The order rotates each round, so no configuration always runs after another.
  for (let k = 0; k < configs.length; k++) {
    const c = (r + k) % configs.length;
    rates[c]!.push(await endToEnd(configs[c]![1]));
  }
}
const off = median([...rates[0]!]);
console.log(
  "\n" + table(
    [
      [
        `end to end, sab, ${fmtInt(E2E_EVENTS)} events (median of ${E2E_ROUNDS})`,
        "events/s",
        "vs off",
      ],
      ...configs.map(([name], c) => {
        const m = median([...rates[c]!]);
        return [name, fmtInt(m), fmt(m / off, 2) + "×"];
      }),
    ],
    ["l", "r", "r"],
  ),
);
if (sink < 0) console.log(sink);
