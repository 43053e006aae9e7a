/**
 * What logging costs per node on this machine: `measureOverhead()` runs
 * flightlog's own workload ({@linkcode STEP_BOUND}) here, in this runtime,
 * within a time budget, and returns medians with their spread, the runtime
 * and the CPU. `flightlog bench` prints it; in a browser it runs in the page.
 *
 * Every caller-cost figure is a set of timed batches of calls. A batch grows
 * (doubling) until it lasts {@linkcode TARGET_BATCH_MS}, so a coarse clock (a
 * browser's is 5 µs to 100 µs) does not matter, up to a cap that keeps its
 * events within the ring, which is emptied between batches (`flush()`,
 * untimed) so that no timed call finds it full. The first fifth of each
 * figure's time is warm-up, whose batches are not kept.
 *
 * @module
 */
import { withContext } from "../front/context.ts";
import { createLogger, type Logger } from "../front/logger.ts";
import { observable } from "../integrations/observable.ts";
import { describeRuntime, openTempStore } from "../platform/deno.ts";
import type { CpuInfo, RuntimeInfo } from "../platform/types.ts";
import type { TransportMode } from "../transport/types.ts";
import { BINDINGS, callFields, EVENT, inlineFields, quantile, STEP_BOUND } from "./workload.ts";

/** Options of {@linkcode measureOverhead}. */
export interface MeasureOverheadOptions {
  /**
   * Seconds the whole run may take, start-up and clean-up included: from 0.1
   * to 3600. Each figure takes at least 3 samples, so a budget too small for
   * them is overrun by what they take (tens of milliseconds).
   * @default {10}
   */
  seconds?: number;
  /** Called as each figure starts: what a long run shows as progress. */
  onProgress?: (progress: OverheadProgress) => void;
}

/** What {@linkcode MeasureOverheadOptions.onProgress} receives. */
export interface OverheadProgress {
  /** The figure now measured. */
  figure: keyof OverheadFigures;
  /** What it measures, for people. */
  label: string;
  /** Its place, from 1. */
  index: number;
  /** How many figures there are. */
  count: number;
}

/** Median and spread of a figure's samples (one sample per batch or round). */
export interface Spread {
  /** The median. */
  median: number;
  /** 25th percentile (linear interpolation between the nearest samples). */
  p25: number;
  /** 75th percentile. */
  p75: number;
  /** The smallest sample. */
  min: number;
  /** The largest sample. */
  max: number;
  /** Samples kept (batches or rounds, after the warm-up). */
  samples: number;
}

/** The cost of one kind of call, in nanoseconds per call. */
export interface CallFigure {
  /** What was called. */
  label: string;
  /** Calls per timed batch at the end (a batch doubles until it lasts 2 ms, up to a cap). */
  calls_per_batch: number;
  /** Nanoseconds per call. */
  ns_per_call: Spread;
}

/** An `observable()` node against the bare function, in nanoseconds per call. */
export interface NodeFigure {
  /** What was called. */
  label: string;
  /** Calls per timed batch of each of the two at the end (see {@linkcode CallFigure}). */
  calls_per_batch: number;
  /** The node: the wrapped function, its `node_entry` and `node_exit` events logged. */
  node_ns: Spread;
  /** The bare function, timed in the same rounds. */
  bare_ns: Spread;
  /** What the node adds: node minus bare, round by round. */
  overhead_ns: Spread;
}

/** Events logged as fast as one thread can into a temporary store, until persisted. */
export interface EndToEndFigure {
  /** What was logged where. */
  label: string;
  /** Events per timed round: the first call to `flush()` resolving. */
  events_per_round: number;
  /** Events persisted per second, one sample per round. */
  events_per_s: Spread;
  /** Events logged in the kept rounds. */
  emitted: number;
  /** Of them, persisted. */
  persisted: number;
  /** Of them, dropped (a ring full because the worker fell behind). */
  dropped: number;
  /** The temporary store: a directory (Deno) or an IndexedDB name (browser), removed after the run. */
  store: string;
}

/** The figures of a {@linkcode OverheadReport}. */
export interface OverheadFigures {
  /** `info()` on a child logger holding the 7 ids, 2 fields per call. */
  info_bound: CallFigure;
  /** `info()` on the root logger with the 7 ids and 2 fields in each call's fields. */
  info_inline: CallFigure;
  /** `debug()` with the logger at `info`: a disabled level. */
  disabled: CallFigure;
  /** An `observable()` synchronous no-op node against the bare function. */
  observable_sync: NodeFigure;
  /** An `observable()` async no-op node against the bare async function, each call awaited. */
  observable_async: NodeFigure;
  /** `info()` on the root logger inside `withContext()` of the 7 ids, 2 fields per call. */
  with_context: CallFigure;
  /** End to end into a temporary store. */
  end_to_end: EndToEndFigure;
}

/** What {@linkcode measureOverhead} returns; `flightlog bench --json` prints it. */
export interface OverheadReport {
  /** When the run started, ISO 8601. */
  date: string;
  /** The budget, seconds. */
  seconds: number;
  /** What the run took, seconds. */
  elapsed_s: number;
  /** The runtime and its version. */
  runtime: RuntimeInfo;
  /** The CPU. */
  cpu: CpuInfo;
  /** The transport the logger chose (`sab` where SharedArrayBuffer is usable). */
  transport: TransportMode;
  /** The workload of every figure. */
  workload: string;
  /** The figures. */
  figures: OverheadFigures;
}

/** A batch grows until it lasts this long: far above any clock's resolution. */
export const TARGET_BATCH_MS = 2;
/** Samples kept per figure at the least, however small the budget. */
export const MIN_SAMPLES = 3;
const MAX_SAMPLES = 2000;
const WARMUP_SHARE = 0.2;
/** Events per end-to-end round: a third of what the ring below holds. */
const E2E_EVENTS = 12_000;
// 8 MiB holds 16,384 workload events (~224 B in the ring each) twice over, so a batch of them
// never finds the ring full (the same ring as the gate's, bench/_workload.ts CALLER_RING).
const RING_BYTES = 8 << 20;
const RING_EVENTS = 16_384;
/** Bytes the temporary store keeps; older segments are evicted, as retention does. */
const STORE_MAX_BYTES = 64 << 20;
// Share of the time left kept for closing the logger and removing the store.
const TEARDOWN_SHARE = 0.1;

let sink = 0;

function noop(x: number): number {
  return x + 1;
}

// deno-lint-ignore require-await
async function asyncNoop(x: number): Promise<number> {
  return x + 1;
}

function spread(xs: number[]): Spread {
  const s = [...xs];
  return {
    median: quantile(s, 0.5),
    p25: quantile(s, 0.25),
    p75: quantile(s, 0.75),
    min: s[0] ?? NaN,
    max: s.at(-1) ?? NaN,
    samples: s.length,
  };
}

/**
 * Milliseconds of each contender's batch of `n` calls; `round` says which
 * round this is, so that contenders can take turns going first.
 */
type Round = (n: number, round: number) => number[] | Promise<number[]>;

/**
 * Runs rounds for `sliceMs`: warm-up (the batch grows from `start` up to
 * `cap` calls until the first contender's lasts {@linkcode TARGET_BATCH_MS}),
 * then kept rounds. Returns the batch size and ns per call of each contender.
 */
async function sample(
  sliceMs: number,
  start: number,
  cap: number,
  round: Round,
  settle: () => Promise<void>,
): Promise<{ batch: number; ns: number[][] }> {
  const t0 = performance.now();
  const warmEnd = t0 + sliceMs * WARMUP_SHARE;
  const end = t0 + sliceMs;
  let batch = start;
  let r = 0;
  for (;;) {
    const ms = await round(batch, r++);
    await settle();
    if (ms[0]! < TARGET_BATCH_MS && batch < cap) batch = Math.min(cap, batch * 2);
    else if (performance.now() >= warmEnd) break;
  }
  const ns: number[][] = [];
  for (let k = 0; ns[0] === undefined || ns[0].length < MAX_SAMPLES; k++) {
    if (k >= MIN_SAMPLES && performance.now() >= end) break;
    const ms = await round(batch, r++);
    await settle();
    ms.forEach((m, c) => (ns[c] ??= []).push((m * 1e6) / batch));
    // Batches timed while V8 was still compiling stopped the growth early.
    if (ms[0]! < TARGET_BATCH_MS / 2 && batch < cap) batch = Math.min(cap, batch * 2);
  }
  return { batch, ns };
}

/** Times `loop(n)` in milliseconds. */
function timed(loop: (n: number) => void, n: number): number {
  const t0 = performance.now();
  loop(n);
  return performance.now() - t0;
}

// One loop per figure, so each call site only ever sees one target.
function infoBoundLoop(flow: Logger, n: number): void {
  for (let i = 0; i < n; i++) flow.info(EVENT, callFields(i));
}
function infoInlineLoop(log: Logger, n: number): void {
  for (let i = 0; i < n; i++) log.info(EVENT, inlineFields(i));
}
function contextLoop(log: Logger, n: number): void {
  for (let i = 0; i < n; i++) log.info(EVENT, callFields(i));
}
const DISABLED_FIELDS = { duration_ms: 12.5, status: "ok" };
function disabledLoop(flow: Logger, n: number): void {
  for (let i = 0; i < n; i++) flow.debug(EVENT, DISABLED_FIELDS);
}

/** The figures in the order they run, with their share of the time. */
const PLAN: readonly { figure: keyof OverheadFigures; label: string; weight: number }[] = [
  { figure: "info_bound", label: "info(), 7 ids bound by child() + 2 fields", weight: 2 },
  { figure: "info_inline", label: "info(), 7 ids + 2 fields inline", weight: 2 },
  { figure: "disabled", label: "debug() below the logger's level", weight: 1 },
  {
    figure: "observable_sync",
    label: "observable() sync no-op node vs the bare function",
    weight: 2,
  },
  {
    figure: "observable_async",
    label: "observable() async no-op node vs the bare function, awaited",
    weight: 2,
  },
  // After the others: the first withContext() turns on a check in every log call after it.
  {
    figure: "with_context",
    label: "info() inside withContext() of the 7 ids + 2 fields",
    weight: 1,
  },
  { figure: "end_to_end", label: "events/s into a temporary store, until persisted", weight: 3 },
];

/**
 * Measures what logging costs per node on this machine, in this runtime:
 * an `info()` call with the ids bound by `child()` and with them inline, a
 * disabled level, an `observable()` sync and async node against the bare
 * function, an `info()` inside `withContext()`, and events per second into a
 * temporary store (a directory under the system's temporary directory in
 * Deno, an IndexedDB database in a browser), removed afterwards however the
 * run ends. Figures are medians with quartiles and extremes over batches;
 * compare them with a per-node budget before deploying. Throws a
 * `RangeError` for a bad `seconds`; in Deno it needs read and write access
 * to the temporary directory.
 *
 * @example Measure for a fraction of a second
 * ```ts
 * import { measureOverhead } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const report = await measureOverhead({ seconds: 0.5 });
 * assert.equal(report.runtime.name, "deno");
 * assert.ok(report.figures.info_bound.ns_per_call.median > 0);
 * assert.ok(report.figures.end_to_end.persisted > 0);
 * ```
 */
export async function measureOverhead(
  options: MeasureOverheadOptions = {},
): Promise<OverheadReport> {
  const seconds = options.seconds ?? 10;
  if (typeof seconds !== "number" || !(seconds >= 0.1 && seconds <= 3600)) {
    throw new RangeError(
      `Option seconds must be a number from 0.1 to 3600, got ${String(seconds)}: ` +
        "give the time the whole measurement may take",
    );
  }
  const onProgress = options.onProgress ?? (() => {});
  const started = performance.now();
  const report = await measureInTempStore(started + seconds * 1000, onProgress);
  report.seconds = seconds;
  report.elapsed_s = (performance.now() - started) / 1000;
  return report;
}

async function measureInTempStore(
  deadline: number,
  onProgress: (progress: OverheadProgress) => void,
): Promise<OverheadReport> {
  const date = new Date().toISOString();
  const { runtime, cpu } = await describeRuntime();
  const temp = await openTempStore();
  try {
    const log = createLogger({
      dir: temp.dir,
      ringBytes: RING_BYTES,
      level: "info",
      exitHooks: false,
      console: false,
      metrics: false,
      // A fast machine writes hundreds of MB in a 10 s run: retention keeps the disk (and the
      // time to remove the store) bounded, as it does in production.
      store: { maxBytes: STORE_MAX_BYTES },
    });
    try {
      await log.flush(); // the worker is up before any clock starts
      const figures = await measureAll(log, temp.dir, deadline, onProgress);
      return {
        date,
        seconds: NaN,
        elapsed_s: NaN,
        runtime,
        cpu,
        transport: log.stats().mode,
        workload: STEP_BOUND.label,
        figures,
      };
    } finally {
      await log.close();
    }
  } finally {
    await temp.remove();
  }
}

async function measureAll(
  log: Logger,
  store: string,
  deadline: number,
  onProgress: (progress: OverheadProgress) => void,
): Promise<OverheadFigures> {
  const flow = log.child({ ...BINDINGS });
  const flush = () => log.flush();
  const none = () => Promise.resolve();
  const node = observable(noop, { logger: flow, node: "bench_sync" });
  const asyncNode = observable(asyncNoop, { logger: flow, node: "bench_async" });
  const out: Partial<OverheadFigures> = {};
  let weightLeft = PLAN.reduce((sum, p) => sum + p.weight, 0);
  for (const [i, step] of PLAN.entries()) {
    onProgress({ figure: step.figure, label: step.label, index: i + 1, count: PLAN.length });
    const left = (deadline - performance.now()) * (1 - TEARDOWN_SHARE);
    const slice = Math.max(0, left) * step.weight / weightLeft;
    weightLeft -= step.weight;
    const call = async (start: number, cap: number, loop: (n: number) => void, settle = flush) => {
      const { batch, ns } = await sample(slice, start, cap, (n) => [timed(loop, n)], settle);
      return { label: step.label, calls_per_batch: batch, ns_per_call: spread(ns[0]!) };
    };
    switch (step.figure) {
      case "info_bound":
        out.info_bound = await call(1000, RING_EVENTS, (n) => infoBoundLoop(flow, n));
        break;
      case "info_inline":
        out.info_inline = await call(1000, RING_EVENTS, (n) => infoInlineLoop(log, n));
        break;
      case "disabled":
        out.disabled = await call(100_000, 1 << 26, (n) => disabledLoop(flow, n), none);
        break;
      case "observable_sync":
        out.observable_sync = await nodeFigure(step.label, slice, (n, r) => {
          const bare = (k: number) => {
            for (let i = 0; i < k; i++) sink += noop(i);
          };
          const wrapped = (k: number) => {
            for (let i = 0; i < k; i++) sink += node(i);
          };
          if (r % 2 === 0) return [timed(wrapped, n), timed(bare, n)];
          const b = timed(bare, n);
          return [timed(wrapped, n), b];
        }, flush);
        break;
      case "observable_async":
        out.observable_async = await nodeFigure(step.label, slice, async (n, r) => {
          const run = async (fn: (x: number) => Promise<number>) => {
            const t0 = performance.now();
            for (let i = 0; i < n; i++) sink += await fn(i);
            return performance.now() - t0;
          };
          if (r % 2 === 0) return [await run(asyncNode), await run(asyncNoop)];
          const b = await run(asyncNoop);
          return [await run(asyncNode), b];
        }, flush);
        break;
      case "with_context":
        out.with_context = await call(
          1000,
          RING_EVENTS,
          (n) => withContext(BINDINGS, () => contextLoop(log, n)),
        );
        break;
      case "end_to_end":
        out.end_to_end = await endToEnd(step.label, log, flow, store, slice);
        break;
    }
  }
  return out as OverheadFigures;
}

// A node logs two events (entry and exit): half the ring's batch.
async function nodeFigure(
  label: string,
  slice: number,
  round: Round,
  settle: () => Promise<void>,
): Promise<NodeFigure> {
  const { batch, ns } = await sample(slice, 500, RING_EVENTS / 2, round, settle);
  const [node, bare] = ns as [number[], number[]];
  return {
    label,
    calls_per_batch: batch,
    node_ns: spread(node),
    bare_ns: spread(bare),
    overhead_ns: spread(node.map((x, i) => x - bare[i]!)),
  };
}

async function endToEnd(
  label: string,
  log: Logger,
  flow: Logger,
  store: string,
  slice: number,
): Promise<EndToEndFigure> {
  const end = performance.now() + slice;
  const rates: number[] = [];
  const before = log.stats();
  while (rates.length < MIN_SAMPLES || (performance.now() < end && rates.length < MAX_SAMPLES)) {
    const t0 = performance.now();
    infoBoundLoop(flow, E2E_EVENTS);
    await log.flush();
    rates.push(E2E_EVENTS / ((performance.now() - t0) / 1000));
  }
  const after = log.stats();
  return {
    label,
    events_per_round: E2E_EVENTS,
    events_per_s: spread(rates),
    emitted: after.emitted - before.emitted,
    persisted: after.persisted - before.persisted,
    dropped: after.dropped - before.dropped,
    store,
  };
}
