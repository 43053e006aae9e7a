/**
 * The shared benchmark workload, the setups every benchmark repeats, and the
 * statistics and tables the gates and the peer comparison print. Private to
 * `bench/` (never re-exported).
 *
 * The workload is the event flightlog exists for: one step of an agent flow,
 * seven correlation ids bound once with `child()` and two fields per call
 * ({@linkcode STEP_BOUND}). A {@linkcode Workload} describes it as data, so a
 * comparison can run more than one side by side.
 *
 * @module
 */
import { createLogger, type Logger, type LoggerOptions, type LoggerStats } from "../mod.ts";
import { BoundLogEvent, type LogEvent } from "../src/event.ts";
import { SegmentStore } from "../src/store/segment_store.ts";
import * as ring from "../src/wire/ring.ts";
import {
  BINDINGS,
  callFields,
  EVENT,
  STEP_BOUND,
  STEP_INLINE,
  stepInlineFields,
  type Workload,
} from "../src/bench/workload.ts";
import { BATCH } from "./_measure.ts";

// --- The workload ------------------------------------------------------------------------------

// The workload ships in src/ (measureOverhead() runs it on the user's machine); re-exported here
// so that every benchmark keeps its one import.
export { BINDINGS, callFields, EVENT, STEP_BOUND, STEP_INLINE, stepInlineFields, type Workload };

/** `n` calls of {@linkcode STEP_BOUND} on `flow` (the child holding its bindings). */
export function infoLoop(flow: Logger, n: number): void {
  for (let i = 0; i < n; i++) flow.info(EVENT, callFields(i));
}

/** `n` calls of {@linkcode STEP_INLINE} on `log` (a root logger), the `i` of each from `from`. */
export function inlineLoop(log: Logger, n: number, from = 0): void {
  for (let i = from; i < from + n; i++) log.info(EVENT, stepInlineFields(i));
}

// --- Timed batches -----------------------------------------------------------------------------

// Timing and statistics live in _measure.ts (no runtime API: Node.js runs them too).
export {
  BATCH,
  BATCHES,
  type Contender,
  fmt,
  fmtInt,
  interleave,
  median,
  type Plan,
  quantile,
  quartiles,
  table,
  timeLoop,
  WARMUP,
} from "./_measure.ts";

/**
 * 8 MiB holds a 1,000-call batch (~224 KiB) many times over: with the ring
 * emptied after each batch, no timed call finds it full.
 */
export const CALLER_RING = 8 << 20;

/**
 * A `Deno.bench` body: times `batch()`, then empties `log`'s ring untimed, so
 * no timed call of the next iteration finds it full.
 */
export function flushedBatch(
  log: Logger,
  batch: () => void,
): (b: Deno.BenchContext) => Promise<void> {
  return async (b) => {
    b.start();
    batch();
    b.end();
    await log.flush();
  };
}

// --- Loggers and their directories -------------------------------------------------------------

const benchDirs = new Set<string>();
let removeAtUnload = false;

/**
 * A temporary directory removed when the process unloads, if nothing removed
 * it before: Deno.bench has no teardown hook, and the loggers' workers are
 * unref()ed and die with the process, so the directories are what is left.
 */
export function benchTempDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "flightlog-bench-" });
  if (!removeAtUnload) {
    removeAtUnload = true;
    globalThis.addEventListener("unload", () => {
      for (const d of benchDirs) Deno.removeSync(d, { recursive: true });
    });
  }
  benchDirs.add(dir);
  return dir;
}

/** Runs `fn` with a fresh temporary directory and removes it afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = benchTempDir();
  try {
    return await fn(dir);
  } finally {
    benchDirs.delete(dir);
    await Deno.remove(dir, { recursive: true });
  }
}

/** A logger and its flow: the child holding the workload's bindings (the logger when it has none). */
export interface Flow {
  readonly log: Logger;
  readonly flow: Logger;
}

/**
 * A logger writing into `dir` and its flow. No exit hooks: a script closes
 * its loggers, and a `Deno.bench` file's die with the process.
 */
export function openFlow(options: LoggerOptions & { dir: string }, workload = STEP_BOUND): Flow {
  const log = createLogger({ exitHooks: false, ...options });
  // A workload without bindings logs on the root logger, as its call sites do.
  const bound = Object.keys(workload.bindings).length !== 0;
  return { log, flow: bound ? log.child({ ...workload.bindings }) : log };
}

/** A flow for a `Deno.bench` file, whose directory goes when the process unloads. */
export function benchFlow(options: LoggerOptions = {}): Flow {
  return openFlow({ dir: benchTempDir(), ...options });
}

/** Runs `fn` with a flow in a fresh temporary directory; closes the logger and removes the directory. */
export async function withFlow<T>(
  options: LoggerOptions,
  fn: (f: Flow) => Promise<T>,
): Promise<T> {
  return await withTempDir(async (dir) => {
    const f = openFlow({ dir, ...options });
    try {
      return await fn(f);
    } finally {
      await f.log.close();
    }
  });
}

/**
 * Logs `n` workload events into `dir` as fast as the logger takes them, from
 * a ready worker (and `ready()`, if given) until `flush()` resolves, then
 * closes the logger; returns the milliseconds and the logger's counters.
 */
export async function emitTimed(
  options: LoggerOptions & { dir: string },
  n: number,
  ready?: (log: Logger) => Promise<void>,
): Promise<{ ms: number; stats: LoggerStats }> {
  const { log, flow } = openFlow(options);
  try {
    await log.flush(); // the worker is up before the clock starts
    await ready?.(log);
    const t0 = performance.now();
    infoLoop(flow, n);
    await log.flush();
    return { ms: performance.now() - t0, stats: log.stats() };
  } finally {
    await log.close();
  }
}

/** Events and bytes in the segment files of `dir`, counted by a reader of its own. */
export function storeTotals(dir: string): { events: number; bytes: number } {
  const store = SegmentStore.open(dir, { readOnly: true });
  try {
    const { events, bytes } = store.stats();
    return { events, bytes };
  } finally {
    store.close();
  }
}

/** Bytes of the files directly in `dir` whose name matches `pattern`, and their count. */
export async function filesIn(
  dir: string,
  pattern: RegExp,
): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !pattern.test(entry.name)) continue;
    files++;
    bytes += (await Deno.stat(`${dir}/${entry.name}`)).size;
  }
  return { files, bytes };
}

/** Counts the `\n`-terminated lines of a file without decoding it. */
export async function countLines(path: string): Promise<number> {
  const bytes = await Deno.readFile(path);
  let n = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

// --- Events as the worker hands them on ---------------------------------------------------------

/** The producer id of the decoded events below. */
export const PRODUCER = "a1b2c3d4e5f6.0";

/**
 * Event `seq` as the worker decodes it when the ids come with the call:
 * `fields` hold the bindings and the call fields alike.
 */
export function decodedEvent(
  seq: number,
  ts_ms: number,
  fields: Record<string, unknown>,
  producer = PRODUCER,
  event = EVENT,
): LogEvent {
  return { ts_ms, level: "info", severity: 9, event, producer, seq, fields };
}

/**
 * Event `seq` as the worker decodes a child logger's: one `bindings` object
 * shared by all the child's events, and the call's own `fields`.
 */
export function boundEvent(
  seq: number,
  ts_ms: number,
  bindings: Record<string, unknown>,
  fields: Record<string, unknown>,
  producer = PRODUCER,
): LogEvent {
  return new BoundLogEvent(ts_ms, "info", 9, EVENT, producer, seq, bindings, fields);
}

/** A drained batch of {@linkcode BATCH} workload events, the ids with every call. */
export function decodedBatch(
  fields: (i: number) => Record<string, unknown>,
  event = EVENT,
): LogEvent[] {
  return Array.from(
    { length: BATCH },
    (_, i) =>
      decodedEvent(i + 1, 1795000000000 + i, { ...BINDINGS, ...fields(i) }, PRODUCER, event),
  );
}

// --- A ring without its consumer ----------------------------------------------------------------

/** A producer on a fresh ring, and `free()`, which plays the consumer: it frees everything. */
export function benchRing(
  capacity: number,
  shared = true,
): { buffer: SharedArrayBuffer | ArrayBuffer; producer: ring.RingProducer; free(): void } {
  const buffer = ring.createRingBuffer(capacity, shared);
  const producer = new ring.RingProducer(buffer, ring.createControlBuffer(shared));
  const i32 = new Int32Array(buffer, 0, ring.HEADER_BYTES / 4);
  return {
    buffer,
    producer,
    free: () => Atomics.store(i32, ring.TAIL, Atomics.load(i32, ring.HEAD)),
  };
}

/** Runtime versions for the report header. */
export function runtimeLine(): string {
  const v = Deno.version;
  return `Deno ${v.deno}, V8 ${v.v8}, TypeScript ${v.typescript}, ${Deno.build.target}`;
}

/** The two header lines of a report: title, runtime, CPUs and date (then `more`). */
export function header(title: string, more = ""): string {
  const date = new Date().toISOString().slice(0, 10);
  return `${title} — ${runtimeLine()}\n${navigator.hardwareConcurrency} logical CPUs; ${date}${more}\n`;
}
