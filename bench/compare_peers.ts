/**
 * flightlog against its peers (`deno task compare`): pino with its
 * worker-thread transport (`pino.transport`, target `pino/file`), LogTape with
 * its non-blocking stream sink, and flightlog (default options), on two
 * workloads in one run, written to a file in a temp directory:
 *
 * - {@linkcode STEP_INLINE}: an `info` event with seven fields inline on the
 *   root logger, one a string built per call and one a float;
 * - {@linkcode STEP_BOUND}: seven correlation ids bound once with `child()`
 *   (LogTape: `with()`) and two fields per call (the gate's workload).
 *
 * Then the same workloads on Node.js against pino there
 * (bench/compare_node.ts).
 *
 * Two figures per logger and workload:
 *
 * - **caller cost**: ns per call, the median over batches of
 *   {@linkcode BATCH} calls. Each logger runs alone in a process of its own
 *   ({@linkcode TURNS} turns, the loggers taking turns in a rotating order,
 *   their samples pooled), so that no logger pays for another's garbage
 *   collection or writer thread, and is settled (untimed) right after each
 *   batch, so that no timed call meets a full buffer: this is the cost of an
 *   accepted call.
 * - **end to end**: events per second from the first call until the last
 *   event has been written to its file (`write(2)` done, no fsync, for all
 *   three), each logger in its lossless setting, the median of
 *   {@linkcode ROUNDS} rounds, a fresh logger each round; the events in the
 *   file are then counted. Two figures a round: **cold**, the logger's first
 *   {@linkcode E2E_EVENTS} events (its writer thread just started, its code
 *   not yet compiled, its buffers not yet touched), and **warm**:
 *   {@linkcode E2E_EVENTS} more on the same logger after
 *   {@linkcode WARM_UP_EVENTS} untimed ones, the rate it keeps up with once
 *   running (flightlog's default 16 MiB ring has then been written all over
 *   once, which maps its pages).
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
import { coldAndWarm, E2E_EMITTED, E2E_EVENTS, WARM_UP_EVENTS } from "./_measure.ts";
import { compareOnNode } from "./compare_node.ts";
import {
  BATCH,
  BATCHES,
  countLines,
  fmt,
  fmtInt,
  header,
  interleave,
  median,
  openFlow,
  quartiles,
  STEP_BOUND,
  STEP_INLINE,
  storeTotals,
  table,
  WARMUP,
  withTempDir,
  type Workload,
} from "./_workload.ts";

const ROUNDS = 5;

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
  open(dir: string, lossless: boolean, workload: Workload): Promise<Instance>;
}

/** False for a workload that logs on the root logger (no bindings). */
function isBound(w: Workload): boolean {
  return Object.keys(w.bindings).length !== 0;
}

/** Progress on stderr, so that the report on stdout stays a clean table. */
function progress(line: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

/** What a peer writing JSON lines to `file` finds there after close(). */
async function verifyLines(
  file: string,
  dropped: number,
): Promise<{ onDisk: number; bytes: number; dropped: number }> {
  const onDisk = await countLines(file);
  return { onDisk, bytes: (await Deno.stat(file)).size, dropped };
}

// --- pino: pino.transport({ target: "pino/file" }) -------------------------------

async function openPino(dir: string, w: Workload): Promise<Instance> {
  const file = `${dir}/pino.log`;
  const transport = pino.transport({ target: "pino/file", options: { destination: file } });
  await new Promise<void>((resolve, reject) => {
    transport.once("ready", () => resolve());
    transport.once("error", reject);
  });
  const root = pino({ level: "info" }, transport);
  const child = isBound(w) ? root.child({ ...w.bindings }) : root;
  const { event, fields } = w;
  const loop = (n: number): void => {
    for (let i = 0; i < n; i++) child.info(fields(i), event);
  };
  const settle = (): Promise<void> =>
    new Promise((resolve, reject) => transport.flush((err) => (err ? reject(err) : resolve())));
  return {
    loop,
    settle,
    async emitLossless(n) {
      loop(n);
      await settle();
    },
    close: () =>
      new Promise((resolve) => {
        transport.once("close", () => resolve());
        transport.end();
      }),
    verify: () => verifyLines(file, 0),
  };
}

// --- LogTape: getStreamSink(file.writable, { nonBlocking }) ----------------------

// LogTape's configuration is global: one instance at a time.
async function openLogTape(dir: string, w: Workload): Promise<Instance> {
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
  const root = getLogger(["bench"]);
  const logger = isBound(w) ? root.with({ ...w.bindings }) : root;
  const { event, fields } = w;
  return {
    loop(n) {
      for (let i = 0; i < n; i++) logger.info(event, fields(i));
    },
    settle: () => sink.drain(),
    async emitLossless(n) {
      for (let done = 0; done < n; done += BATCH) {
        const end = Math.min(n, done + BATCH);
        for (let i = done; i < end; i++) logger.info(event, fields(i));
        await sink.drain();
      }
    },
    // reset() disposes the sink, which closes the file.
    close: () => reset(),
    verify: () => verifyLines(file, dropped),
  };
}

// --- flightlog --------------------------------------------------------------------

async function openFlightlog(dir: string, lossless: boolean, w: Workload): Promise<Instance> {
  const { log, flow } = openFlow({ dir, overflow: lossless ? "block" : "drop" }, w);
  await log.flush(); // the store worker is up before anything is timed
  const { event, fields } = w;
  const loop = (n: number): void => {
    for (let i = 0; i < n; i++) flow.info(event, fields(i));
  };
  let internal = 0;
  let dropped = 0;
  return {
    loop,
    settle: () => log.flush(),
    async emitLossless(n) {
      loop(n);
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
      const s = storeTotals(dir);
      return Promise.resolve({ onDisk: s.events - internal, bytes: s.bytes, dropped });
    },
  };
}

const PEERS: Peer[] = [
  { name: "pino 10.4.0, pino.transport → pino/file", open: (dir, _, w) => openPino(dir, w) },
  { name: "LogTape 2.4.2, getStreamSink nonBlocking", open: (dir, _, w) => openLogTape(dir, w) },
  { name: "flightlog, sab transport", open: openFlightlog },
];

// --- Caller cost -------------------------------------------------------------------

// A settle that never resolves (seen twice on a loaded machine, in the caller-cost phase, with
// the code before and after the default ring grew) ends the run naming the logger, not silently.
const SETTLE_LIMIT_MS = 60_000;

async function settleWithin(inst: Instance, name: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${name}: settle() did not resolve within ${SETTLE_LIMIT_MS} ms`)),
      SETTLE_LIMIT_MS,
    );
  });
  try {
    await Promise.race([inst.settle(), stalled]);
  } finally {
    clearTimeout(timer);
  }
}

// One logger's caller cost in this process alone: the child process callerCost() starts.
async function callerCostAlone(
  peer: Peer,
  w: Workload,
  batches: number,
): Promise<{ ns: number[]; dropped: number }> {
  return await withTempDir(async (dir) => {
    const inst = await peer.open(dir, false, w);
    let ns: number[][];
    try {
      // Settled right after each batch, untimed: no timed call meets a full buffer.
      ns = await interleave([{ loop: inst.loop, settle: () => settleWithin(inst, peer.name) }], {
        batches,
      });
    } finally {
      await inst.close();
    }
    return { ns: ns[0]!, dropped: (await inst.verify()).dropped };
  });
}

/** Turns of the caller-cost phase: a process for each logger in each. */
const TURNS = 3;
const CHILD_FLAGS = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-run"];

// Each logger runs alone in a process of its own, the loggers taking turns: in one process each
// logger's calls also paid for the others' garbage collection and background writes (flightlog's
// inline call measured 167–175 ns alone or beside pino, 185–211 ns beside LogTape).
async function callerCost(w: Workload): Promise<{ ns: number[]; dropped: number }[]> {
  const results = PEERS.map(() => ({ ns: [] as number[], dropped: 0 }));
  const config = new URL("../deno.json", import.meta.url).pathname;
  for (let t = 0; t < TURNS; t++) {
    for (let k = 0; k < PEERS.length; k++) {
      const p = (t + k) % PEERS.length;
      progress(`${w.label}: caller cost, turn ${t + 1}/${TURNS}, ${PEERS[p]!.name}`);
      const args = ["run", `--config=${config}`, ...CHILD_FLAGS, import.meta.filename!];
      args.push("caller", String(p), String(WORKLOADS.indexOf(w)));
      const out = await new Deno.Command(Deno.execPath(), { args, stderr: "inherit" }).output();
      if (!out.success) throw new Error(`${PEERS[p]!.name}: caller-cost process failed`);
      const r = JSON.parse(new TextDecoder().decode(out.stdout));
      results[p]!.ns.push(...r.ns);
      results[p]!.dropped += r.dropped;
    }
  }
  return results;
}

// --- End to end ----------------------------------------------------------------------

interface E2e {
  /** The first {@linkcode E2E_EVENTS} events of a fresh logger. */
  coldMs: number;
  /** {@linkcode E2E_EVENTS} events after {@linkcode WARM_UP_EVENTS} more, on the same logger. */
  warmMs: number;
  onDisk: number;
  bytes: number;
  dropped: number;
}

async function endToEnd(open: Peer["open"], w: Workload): Promise<E2e> {
  return await withTempDir(async (dir) => {
    const inst = await open(dir, true, w);
    let ms: { coldMs: number; warmMs: number };
    try {
      ms = await coldAndWarm((n) => inst.emitLossless(n));
    } finally {
      await inst.close();
    }
    return { ...ms, ...(await inst.verify()) };
  });
}

// --- Report ----------------------------------------------------------------------------

const WORKLOADS: Workload[] = [STEP_INLINE, STEP_BOUND];
/** flightlog's targets on each workload, in the order of {@linkcode WORKLOADS}. */
const TARGETS: { ns: number; pinoCaller?: number; eventsPerS: number; pinoE2e: number }[] = [
  { ns: 150, pinoCaller: 10, eventsPerS: 2_000_000, pinoE2e: 6 },
  { ns: 100, eventsPerS: 2_000_000, pinoE2e: 6 },
];

interface Measured {
  cost: { ns: number[]; dropped: number }[];
  e2e: E2e[][];
}

async function measure(w: Workload): Promise<Measured> {
  const cost = await callerCost(w);
  const e2e: E2e[][] = PEERS.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < PEERS.length; k++) {
      const p = (r + k) % PEERS.length;
      progress(`${w.label}: end to end, round ${r + 1}/${ROUNDS}, ${PEERS[p]!.name}`);
      e2e[p]!.push(await endToEnd(PEERS[p]!.open, w));
    }
  }
  return { cost, e2e };
}

async function main(): Promise<number> {
  console.log(header("Peer comparison", `; flightlog with default options`));
  const results: Measured[] = [];
  for (const w of WORKLOADS) results.push(await measure(w));

  let problems = 0;
  const targets: string[] = [];
  for (const [i, w] of WORKLOADS.entries()) {
    const { cost, e2e } = results[i]!;
    const rows: string[][] = [[
      "logger",
      "ns/call (median)",
      "p25",
      "p75",
      "events/s to file, warm (median)",
      "cold (median)",
      "on disk / emitted",
      "dropped",
      "bytes/event",
    ]];
    const nsMed: number[] = [];
    const rateMed: number[] = [];
    for (const [p, peer] of PEERS.entries()) {
      const c = cost[p]!;
      const rounds = e2e[p]!;
      const warm = rounds.map((x) => (E2E_EVENTS * 1000) / x.warmMs);
      const cold = rounds.map((x) => (E2E_EVENTS * 1000) / x.coldMs);
      const complete = rounds.every((x) => x.onDisk === E2E_EMITTED && x.dropped === 0);
      if (!complete || c.dropped !== 0) problems++;
      const last = rounds[rounds.length - 1]!;
      nsMed.push(median([...c.ns]));
      rateMed.push(median(warm));
      rows.push([
        peer.name,
        ...quartiles(c.ns),
        fmtInt(median(warm)),
        fmtInt(median(cold)),
        `${rounds.map((x) => x.onDisk).join(", ")} / ${E2E_EMITTED}`,
        `${c.dropped} + ${rounds.map((x) => x.dropped).join(", ")}`,
        fmt(last.bytes / Math.max(1, last.onDisk), 0),
      ]);
    }
    console.log(`\nWorkload: info "${w.event}", ${w.label}\n`);
    console.log(table(rows, ["l", "r", "r", "r", "r", "r", "r", "r", "r"]));
    const me = PEERS.length - 1;
    for (let p = 0; p < me; p++) {
      console.log(
        `flightlog vs ${PEERS[p]!.name.split(",")[0]}: caller ${fmt(nsMed[p]! / nsMed[me]!)}× ` +
          `cheaper, end to end (warm) ${fmt(rateMed[me]! / rateMed[p]!)}× the events/s`,
      );
    }
    const goal = TARGETS[i]!;
    const pinoRatio = nsMed[0]! / nsMed[me]!;
    const e2eRatio = rateMed[me]! / rateMed[0]!;
    const met = (ok: boolean): string => (ok ? "met" : "not met");
    targets.push(
      `${w.label}: ${fmt(nsMed[me]!)} ns/call vs ≤ ${goal.ns} ns: ${met(nsMed[me]! <= goal.ns)}`,
    );
    if (goal.pinoCaller !== undefined) {
      targets.push(
        `${w.label}: caller ${fmt(pinoRatio)}× pino.transport vs ≥ ${goal.pinoCaller}×: ${
          met(pinoRatio >= goal.pinoCaller)
        }`,
      );
    }
    targets.push(
      `${w.label}: ${fmtInt(rateMed[me]!)} events/s (warm) vs ≥ ${fmtInt(goal.eventsPerS)}: ${
        met(rateMed[me]! >= goal.eventsPerS)
      }`,
      `${w.label}: end to end (warm) ${fmt(e2eRatio)}× pino.transport vs ≥ ${goal.pinoE2e}×: ${
        met(e2eRatio >= goal.pinoE2e)
      }`,
    );
  }
  console.log(
    `\nTargets (medians of this run; reported, never failing):\n- ${targets.join("\n- ")}`,
  );
  console.log(
    `\nns/call: ${TURNS} turns of ${Math.ceil(BATCHES / TURNS)} batches of ${BATCH} calls ` +
      `per logger (after ${WARMUP} warm-up batches), each logger alone in a process of its ` +
      `own. events/s: ${ROUNDS} rounds, a fresh logger and file each round: cold, its first ${E2E_EVENTS} events; warm, ${E2E_EVENTS} ` +
      `more after ${WARM_UP_EVENTS} untimed ones. dropped: caller-cost phase + ` +
      "each end-to-end round. bytes/event: the file (flightlog: its segment files) per event.",
  );
  if (problems !== 0) console.log(`\n${problems} logger(s) lost or dropped events: see the table.`);
  console.log("");
  // The same workloads on Node.js, against pino there (bench/compare_node.ts).
  const node = await compareOnNode();
  return problems === 0 && node === 0 ? 0 : 1;
}

// exitCode, not Deno.exit(): the process must end on its own, which proves every
// worker, file and timer was released.
if (Deno.args[0] === "caller") {
  const [peer, workload] = [PEERS[Number(Deno.args[1])]!, WORKLOADS[Number(Deno.args[2])]!];
  const r = await callerCostAlone(peer, workload, Math.ceil(BATCHES / TURNS));
  console.log(JSON.stringify(r));
} else {
  Deno.exitCode = await main();
}
