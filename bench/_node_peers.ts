/**
 * The Node.js side of the peer comparison: run under Node by
 * bench/compare_node.ts, which bundles this file and builds flightlog's Node
 * entry (the npm package's `node` condition) first. flightlog, pino with its
 * worker-thread transport (`pino.transport`, target `pino/file`) and pino
 * with sonic-boom (`pino.destination`, asynchronous) in this one Node
 * process, on the workloads the Deno comparison runs, measured as it
 * measures (bench/_measure.ts): caller cost from interleaved batches with
 * every logger settled between rounds, end-to-end events/s in each logger's
 * lossless setting.
 *
 * Prints progress on stderr and one JSON {@linkcode NodeReport} on stdout.
 * Leaves the files and stores it wrote for the launcher to count with readers
 * of its own, which proves them complete (and, for flightlog, that Deno reads
 * what Node wrote).
 *
 * Input (environment): `FLIGHTLOG_NODE_MODULE`, the URL of the built
 * `mod.js`; `FLIGHTLOG_BENCH_DIR`, the directory to write into;
 * `FLIGHTLOG_BENCH_PHASE=alone` for flightlog's caller cost alone.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import process from "node:process";
import pino from "pino";
import type * as Flightlog from "../mod.ts";
import { STEP_BOUND, STEP_INLINE, type Workload } from "../src/bench/workload.ts";
import {
  BATCH,
  BATCHES,
  coldAndWarm,
  E2E_EMITTED,
  E2E_EVENTS,
  interleave,
  WARMUP,
} from "./_measure.ts";

/** End-to-end rounds per logger and workload. */
export const ROUNDS = 3;

/** What one logger wrote in one end-to-end round. */
export interface NodeRound {
  /** The first {@linkcode E2E_EVENTS} of a fresh logger, from the first call until written. */
  coldMs: number;
  /** {@linkcode E2E_EVENTS} more after {@linkcode WARM_UP_EVENTS} untimed ones, as on Deno. */
  warmMs: number;
  /** A JSON-lines file (pino) or a store directory (flightlog). */
  path: string;
  /** Events the logger says it dropped. */
  dropped: number;
  /** flightlog's own events in the store (flightlog only, else 0). */
  internal: number;
}

/** One logger on one workload. */
export interface NodePeerResult {
  name: string;
  /** `"lines"` for a JSON-lines file, `"store"` for a flightlog store. */
  kind: "lines" | "store";
  /** ns per call, one sample per batch. */
  ns: number[];
  /** Drops during the caller-cost phase. */
  dropped: number;
  rounds: NodeRound[];
}

/** What the Node run prints on stdout. */
export interface NodeReport {
  node: string;
  v8: string;
  batch: number;
  batches: number;
  warmup: number;
  e2eEvents: number;
  /** Events each end-to-end round emits: cold, warm-up and warm. */
  emitted: number;
  /** Per workload, every logger interleaved (`FLIGHTLOG_BENCH_PHASE` unset). */
  workloads: { label: string; peers: NodePeerResult[] }[];
  /**
   * Per workload label, flightlog alone, measured as the Deno side measures
   * it: the figure to set against Deno's (`FLIGHTLOG_BENCH_PHASE=alone`).
   */
  alone: Record<string, number[]>;
}

interface Instance {
  loop(n: number): void;
  settle(): Promise<void>;
  emitLossless(n: number): Promise<void>;
  close(): Promise<void>;
  dropped(): number;
  internal(): number;
}

interface Peer {
  name: string;
  kind: "lines" | "store";
  open(path: string, lossless: boolean, w: Workload): Promise<Instance>;
}

const flightlog: typeof Flightlog = await import(required("FLIGHTLOG_NODE_MODULE"));
const root = required("FLIGHTLOG_BENCH_DIR");

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new TypeError(`${name} is not set: run bench/compare_node.ts`);
  return value;
}

function pinoInstance(
  logger: pino.Logger,
  flush: (done: (err?: Error | null) => void) => void,
  end: () => Promise<void>,
  w: Workload,
): Instance {
  const child = logger.child({ ...w.bindings });
  const { event, fields } = w;
  const loop = (n: number): void => {
    for (let i = 0; i < n; i++) child.info(fields(i), event);
  };
  const settle = () =>
    new Promise<void>((resolve, reject) => flush((err) => (err ? reject(err) : resolve())));
  return {
    loop,
    settle,
    async emitLossless(n) {
      loop(n);
      await settle();
    },
    close: end,
    dropped: () => 0,
    internal: () => 0,
  };
}

async function openPinoTransport(file: string, _: boolean, w: Workload): Promise<Instance> {
  const transport = pino.transport({ target: "pino/file", options: { destination: file } });
  await new Promise<void>((resolve, reject) => {
    transport.once("ready", () => resolve());
    transport.once("error", reject);
  });
  return pinoInstance(
    pino({ level: "info" }, transport),
    (done) => transport.flush(done),
    () =>
      new Promise((resolve) => {
        transport.once("close", () => resolve());
        transport.end();
      }),
    w,
  );
}

async function openPinoSonicBoom(file: string, _: boolean, w: Workload): Promise<Instance> {
  // Asynchronous sonic-boom (minLength 0, as pino.destination() defaults) writes
  // whenever no write is in flight and buffers without bound meanwhile: lossless.
  const dest = pino.destination({ dest: file, sync: false });
  await new Promise<void>((resolve, reject) => {
    dest.once("ready", () => resolve());
    dest.once("error", reject);
  });
  // "All written" is "no write in flight": its flush(cb) would add an fsync, and
  // with a minLength it keeps a tail back, so the settled state is read directly.
  const state = dest as unknown as { _writing: boolean; _len: number };
  return pinoInstance(
    pino({ level: "info" }, dest),
    (done) => {
      if (!state._writing && state._len === 0) done();
      else dest.once("drain", () => done());
    },
    () =>
      new Promise((resolve) => {
        dest.once("close", () => resolve());
        dest.end();
      }),
    w,
  );
}

async function openFlightlog(dir: string, lossless: boolean, w: Workload): Promise<Instance> {
  const log = flightlog.createLogger({
    dir,
    exitHooks: false,
    overflow: lossless ? "block" : "drop",
  });
  const flow = Object.keys(w.bindings).length === 0 ? log : log.child({ ...w.bindings });
  await log.flush(); // the store worker is up before anything is timed
  const { event, fields } = w;
  const loop = (n: number): void => {
    for (let i = 0; i < n; i++) flow.info(event, fields(i));
  };
  let stats = log.stats();
  return {
    loop,
    settle: () => log.flush(),
    async emitLossless(n) {
      loop(n);
      await log.flush();
    },
    async close() {
      stats = log.stats();
      await log.close();
    },
    dropped: () => stats.dropped,
    internal: () => stats.internal,
  };
}

const PEERS: Peer[] = [
  { name: "pino, pino.transport → pino/file", kind: "lines", open: openPinoTransport },
  { name: "pino, sonic-boom (async)", kind: "lines", open: openPinoSonicBoom },
  { name: "flightlog, sab transport", kind: "store", open: openFlightlog },
];

let serial = 0;
function freshPath(kind: "lines" | "store"): string {
  const path = `${root}/${serial++}${kind === "lines" ? ".log" : ""}`;
  if (kind === "store") mkdirSync(path);
  return path;
}

async function callerCost(w: Workload): Promise<{ ns: number[]; dropped: number }[]> {
  const instances: Instance[] = [];
  let ns: number[][] = [];
  try {
    for (const peer of PEERS) instances.push(await peer.open(freshPath(peer.kind), false, w));
    ns = await interleave(instances.map(({ loop }) => ({ loop })), {
      afterRound: async () => {
        for (const inst of instances) await inst.settle();
      },
    });
  } finally {
    for (const inst of instances) await inst.close();
  }
  return instances.map((inst, k) => ({ ns: ns[k]!, dropped: inst.dropped() }));
}

/** flightlog's caller cost with no other logger in the process's turns. */
async function aloneCost(w: Workload): Promise<number[]> {
  const inst = await openFlightlog(freshPath("store"), false, w);
  try {
    const [ns] = await interleave([{ loop: inst.loop }], { afterRound: () => inst.settle() });
    return ns!;
  } finally {
    await inst.close();
  }
}

async function endToEnd(peer: Peer, w: Workload): Promise<NodeRound> {
  const path = freshPath(peer.kind);
  const inst = await peer.open(path, true, w);
  let ms: { coldMs: number; warmMs: number };
  try {
    ms = await coldAndWarm((n) => inst.emitLossless(n));
  } finally {
    await inst.close();
  }
  return { ...ms, path, dropped: inst.dropped(), internal: inst.internal() };
}

// pino.transport waits for its unref()ed worker with Atomics.waitAsync, which
// does not keep Node's event loop alive: its end() would never be seen to finish.
const alive = setInterval(() => {}, 1 << 30);

const report: NodeReport = {
  node: process.version,
  v8: process.versions.v8,
  batch: BATCH,
  batches: BATCHES,
  warmup: WARMUP,
  e2eEvents: E2E_EVENTS,
  emitted: E2E_EMITTED,
  workloads: [],
  alone: {},
};
// The order of bench/compare_peers.ts.
const WORKLOADS = [STEP_INLINE, STEP_BOUND];
if (process.env.FLIGHTLOG_BENCH_PHASE === "alone") {
  for (const w of WORKLOADS) {
    process.stderr.write(`node: flightlog alone, ${w.label}\n`);
    // Node 20's V8 optimizes later than Deno's: a first phase measured its
    // warm-up (279 ns a call, then 150), so the first is run and not kept.
    await aloneCost(w);
    report.alone[w.label] = await aloneCost(w);
  }
} else {
  for (const w of WORKLOADS) {
    process.stderr.write(`node: caller cost beside pino, ${w.label}\n`);
    const cost = await callerCost(w);
    const rounds: NodeRound[][] = PEERS.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      process.stderr.write(`node: end to end, ${w.label}, round ${r + 1}/${ROUNDS}\n`);
      for (let k = 0; k < PEERS.length; k++) {
        const p = (r + k) % PEERS.length;
        rounds[p]!.push(await endToEnd(PEERS[p]!, w));
      }
    }
    report.workloads.push({
      label: w.label,
      peers: PEERS.map((peer, p) => ({
        name: peer.name,
        kind: peer.kind,
        ns: cost[p]!.ns,
        dropped: cost[p]!.dropped,
        rounds: rounds[p]!,
      })),
    });
  }
}
clearInterval(alive);
process.stdout.write(JSON.stringify(report) + "\n");
