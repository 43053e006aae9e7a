/**
 * flightlog against its peers (`deno task compare`): pino with its
 * worker-thread transport (`pino.transport`, target `pino/file`), LogTape with
 * its non-blocking stream sink, and flightlog, on the same workload: an `info`
 * event with seven correlation ids bound once with `child()` (LogTape:
 * `with()`) and two fields per call, written to a file in a temp directory.
 *
 * Two figures per logger, measured in this one process:
 *
 * - **caller cost**: ns per call, the median over batches of
 *   {@linkcode BATCH} calls. The loggers take turns batch by batch (rotating
 *   who goes first), and after each batch every logger is settled (untimed),
 *   so no timed call meets a full buffer: this is the cost of an accepted call.
 * - **end to end**: events per second from the first call until the last
 *   event has been written to its file (`write(2)` done, no fsync, for all
 *   three), each logger in its lossless setting, the median of
 *   {@linkcode ROUNDS} rounds; the events in the file are then counted.
 *
 * Lossless settings: pino's transport never drops (thread-stream buffers
 * without bound while its worker lags), so the loop is a tight one. LogTape's
 * non-blocking sink keeps at most twice `bufferSize` records and drops the
 * oldest past that, and it writes on the caller's thread, so the loop hands it
 * `bufferSize` events at a time and awaits `drain()` in between. flightlog uses
 * `overflow: "block"` (the caller waits for ring space).
 *
 * @module
 */
import pino from "pino";
import { configure, getLogger, getStreamSink, jsonLinesFormatter, reset } from "@logtape/logtape";
import { createLogger } from "../mod.ts";
import { SegmentStore } from "../src/store/segment_store.ts";
import {
  BINDINGS,
  callFields,
  countLines,
  EVENT,
  fmt,
  fmtInt,
  median,
  quantile,
  runtimeLine,
  table,
  timeLoop,
} from "./_workload.ts";

const BATCH = 1000;
const WARMUP = 30;
const BATCHES = 200;
const E2E_EVENTS = 100_000;
const ROUNDS = 3;

/** One logger instance writing into its own temp directory. */
interface Instance {
  /** `n` calls of the workload, as a call site would make them. */
  loop(n: number): void;
  /** Resolves once everything accepted so far is written to the file. */
  settle(): Promise<void>;
  /** End-to-end emission of `n` events in this logger's lossless setting. */
  emitLossless(n: number): Promise<void>;
  /** Releases workers and files. */
  close(): Promise<void>;
  /** After close(): events found on disk, bytes on disk, events dropped. */
  verify(): Promise<{ onDisk: number; bytes: number; dropped: number }>;
}

interface Peer {
  name: string;
  /** Opens an instance in `dir`; `lossless` asks for the end-to-end setting. */
  open(dir: string, lossless: boolean): Promise<Instance>;
}

// --- pino: pino.transport({ target: "pino/file" }) -------------------------------

async function openPino(dir: string): Promise<Instance> {
  const file = `${dir}/pino.log`;
  const transport = pino.transport({ target: "pino/file", options: { destination: file } });
  await new Promise<void>((resolve, reject) => {
    transport.once("ready", () => resolve());
    transport.once("error", reject);
  });
  const child = pino({ level: "info" }, transport).child({ ...BINDINGS });
  const settle = (): Promise<void> =>
    new Promise((resolve, reject) => transport.flush((err) => (err ? reject(err) : resolve())));
  return {
    loop(n) {
      for (let i = 0; i < n; i++) child.info(callFields(i), EVENT);
    },
    settle,
    async emitLossless(n) {
      for (let i = 0; i < n; i++) child.info(callFields(i), EVENT);
      await settle();
    },
    close: () =>
      new Promise((resolve) => {
        transport.once("close", () => resolve());
        transport.end();
      }),
    async verify() {
      const onDisk = await countLines(file);
      return { onDisk, bytes: (await Deno.stat(file)).size, dropped: 0 };
    },
  };
}

// --- LogTape: getStreamSink(file.writable, { nonBlocking }) ----------------------

// LogTape's configuration is global: one instance at a time.
async function openLogTape(dir: string): Promise<Instance> {
  const file = `${dir}/logtape.jsonl`;
  const handle = await Deno.open(file, { write: true, create: true, truncate: true });
  let dropped = 0;
  const sink = getStreamSink(handle.writable, {
    formatter: jsonLinesFormatter,
    // bufferSize = the batch, so a batch never overflows the buffer (2 × bufferSize).
    nonBlocking: { bufferSize: BATCH, flushInterval: 100, onDrop: (e) => (dropped += e.count) },
  });
  await configure({
    reset: true,
    sinks: { file: sink },
    loggers: [
      { category: ["bench"], lowestLevel: "info", sinks: ["file"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  const logger = getLogger(["bench"]).with({ ...BINDINGS });
  return {
    loop(n) {
      for (let i = 0; i < n; i++) logger.info(EVENT, callFields(i));
    },
    settle: () => sink.drain(),
    async emitLossless(n) {
      for (let done = 0; done < n; done += BATCH) {
        const end = Math.min(n, done + BATCH);
        for (let i = done; i < end; i++) logger.info(EVENT, callFields(i));
        await sink.drain();
      }
    },
    // reset() disposes the sink, which closes the file.
    close: () => reset(),
    async verify() {
      const onDisk = await countLines(file);
      return { onDisk, bytes: (await Deno.stat(file)).size, dropped };
    },
  };
}

// --- flightlog --------------------------------------------------------------------

async function openFlightlog(dir: string, lossless: boolean): Promise<Instance> {
  const log = createLogger({ dir, exitHooks: false, overflow: lossless ? "block" : "drop" });
  await log.flush(); // the store worker is up before anything is timed
  const flow = log.child({ ...BINDINGS });
  let internal = 0;
  let dropped = 0;
  return {
    loop(n) {
      for (let i = 0; i < n; i++) flow.info(EVENT, callFields(i));
    },
    settle: () => log.flush(),
    async emitLossless(n) {
      for (let i = 0; i < n; i++) flow.info(EVENT, callFields(i));
      await log.flush();
    },
    async close() {
      const s = log.stats();
      internal = s.internal;
      dropped = s.dropped;
      await log.close();
    },
    verify() {
      // Count what is on disk with a reader of its own, not the logger's counters.
      const store = SegmentStore.open(dir, { readOnly: true });
      try {
        const s = store.stats();
        return Promise.resolve({ onDisk: s.events - internal, bytes: s.bytes, dropped });
      } finally {
        store.close();
      }
    },
  };
}

const PEERS: Peer[] = [
  { name: "pino 10.4.0, pino.transport → pino/file", open: (dir) => openPino(dir) },
  { name: "LogTape 2.4.2, getStreamSink nonBlocking", open: (dir) => openLogTape(dir) },
  { name: "flightlog, sab transport", open: openFlightlog },
];

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-compare-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// --- Caller cost -------------------------------------------------------------------

async function callerCost(): Promise<Map<string, { ns: number[]; dropped: number }>> {
  const results = new Map<string, { ns: number[]; dropped: number }>();
  await withTempDir(async (dir) => {
    const instances: { name: string; inst: Instance }[] = [];
    try {
      // LogTape is global, so it is the one LogTape instance of this phase.
      for (const peer of PEERS) {
        const sub = `${dir}/${instances.length}`;
        await Deno.mkdir(sub);
        instances.push({ name: peer.name, inst: await peer.open(sub, false) });
        results.set(peer.name, { ns: [], dropped: 0 });
      }
      for (let b = 0; b < WARMUP + BATCHES; b++) {
        for (let k = 0; k < instances.length; k++) {
          const { name, inst } = instances[(b + k) % instances.length]!;
          const ns = timeLoop((n) => inst.loop(n), BATCH);
          if (b >= WARMUP) results.get(name)!.ns.push(ns);
        }
        for (const { inst } of instances) await inst.settle();
      }
    } finally {
      for (const { name, inst } of instances) {
        await inst.close();
        results.get(name)!.dropped = (await inst.verify()).dropped;
      }
    }
  });
  return results;
}

// --- End to end ----------------------------------------------------------------------

interface E2e {
  ms: number;
  onDisk: number;
  bytes: number;
  dropped: number;
}

async function endToEnd(open: Peer["open"]): Promise<E2e> {
  return await withTempDir(async (dir) => {
    const inst = await open(dir, true);
    let ms: number;
    try {
      const t0 = performance.now();
      await inst.emitLossless(E2E_EVENTS);
      ms = performance.now() - t0;
    } finally {
      await inst.close();
    }
    return { ms, ...(await inst.verify()) };
  });
}

// --- Report ----------------------------------------------------------------------------

async function main(): Promise<number> {
  console.log(`Peer comparison — ${runtimeLine()}`);
  console.log(
    `${navigator.hardwareConcurrency} logical CPUs; ${new Date().toISOString().slice(0, 10)}; ` +
      `workload: info "${EVENT}", 7 bound ids + 2 call fields\n`,
  );

  const cost = await callerCost();
  const e2e = new Map<string, E2e[]>(PEERS.map((p) => [p.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < PEERS.length; k++) {
      const peer = PEERS[(r + k) % PEERS.length]!;
      e2e.get(peer.name)!.push(await endToEnd(peer.open));
    }
  }

  let problems = 0;
  const rows: string[][] = [[
    "logger",
    "ns/call (median)",
    "p25",
    "p75",
    "events/s to file (median)",
    "on disk / emitted",
    "dropped",
    "bytes/event",
  ]];
  for (const peer of PEERS) {
    const c = cost.get(peer.name)!;
    const rounds = e2e.get(peer.name)!;
    const rates = rounds.map((x) => (x.onDisk * 1000) / x.ms);
    const complete = rounds.every((x) => x.onDisk === E2E_EVENTS && x.dropped === 0);
    if (!complete || c.dropped !== 0) problems++;
    const last = rounds[rounds.length - 1]!;
    rows.push([
      peer.name,
      fmt(median([...c.ns])),
      fmt(quantile([...c.ns], 0.25)),
      fmt(quantile([...c.ns], 0.75)),
      fmtInt(median(rates)),
      `${rounds.map((x) => x.onDisk).join(", ")} / ${E2E_EVENTS}`,
      `${c.dropped} + ${rounds.map((x) => x.dropped).join(", ")}`,
      fmt(last.bytes / Math.max(1, last.onDisk), 0),
    ]);
  }
  console.log(table(rows, ["l", "r", "r", "r", "r", "r", "r", "r"]));
  console.log(
    `\nns/call: ${BATCHES} batches of ${BATCH} calls per logger (after ${WARMUP} warm-up ` +
      `batches), buffers settled between batches. events/s: ${E2E_EVENTS} events, ` +
      `${ROUNDS} rounds, a fresh logger and file each round. dropped: caller-cost phase + ` +
      "each end-to-end round.",
  );
  if (problems !== 0) console.log(`\n${problems} logger(s) lost or dropped events: see the table.`);
  return problems === 0 ? 0 : 1;
}

// exitCode, not Deno.exit(): the process must end on its own, which proves every
// worker, file and timer was released.
Deno.exitCode = await main();
