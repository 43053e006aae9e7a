/**
 * flightlog on Node.js against pino there (`deno task compare:node`): builds
 * flightlog's Node entry (what the npm package's `node` condition serves) and
 * bench/_node_peers.ts into a temporary directory inside the checkout (so
 * Node finds `pino` and flightlog's dependencies in its node_modules), times
 * flightlog alone on Deno and on Node in turns (this host has slow and fast
 * phases; turns put both runtimes in each), then runs every logger under Node,
 * and prints one table per workload: ns a call, events/s end to end, what is on
 * disk, drops and bytes per event, with flightlog's Node cost against its
 * Deno cost and against `pino.transport`.
 *
 * What each logger wrote is counted here by readers of its own: lines of
 * pino's files, and the events of flightlog's stores through the Deno
 * `SegmentStore`, which so reads stores written by Node.
 *
 * @module
 */
import * as esbuild from "esbuild";
import { buildNode } from "../scripts/build.ts";
import { STEP_BOUND, STEP_INLINE, type Workload } from "../src/bench/workload.ts";
import { fmt, fmtInt, interleave, median, quartiles, table } from "./_measure.ts";
import type { NodeReport } from "./_node_peers.ts";
import { countLines, header, openFlow, storeTotals } from "./_workload.ts";

const ROOT = new URL("../", import.meta.url).pathname;
// The order of bench/compare_peers.ts.
const WORKLOADS = [STEP_INLINE, STEP_BOUND];
/** Turns of flightlog alone on Deno, then on Node. */
const ALONE_TURNS = 3;

/** flightlog's caller cost on Deno, measured as the Node process measures it. */
async function denoCallerCost(w: Workload, dir: string): Promise<number[]> {
  const { log, flow } = openFlow({ dir, overflow: "drop" }, w);
  const target = Object.keys(w.bindings).length === 0 ? log : flow;
  try {
    await log.flush();
    const { event, fields } = w;
    const [ns] = await interleave([{
      loop(n) {
        for (let i = 0; i < n; i++) target.info(event, fields(i));
      },
    }], { afterRound: () => log.flush() });
    return ns!;
  } finally {
    await log.close();
  }
}

/** Builds flightlog's Node.js modules and the Node side into `work`. */
async function buildNodeSide(work: string): Promise<void> {
  await buildNode(`${work}/flightlog`);
  await esbuild.build({
    entryPoints: [`${ROOT}bench/_node_peers.ts`],
    outfile: `${work}/peers.mjs`,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: ["pino"],
    logLevel: "warning",
  });
  await esbuild.stop();
}

/** Runs the Node side (built into `work`) in `phase`, writing under `out`. */
async function runNode(work: string, out: string, phase: "alone" | "peers"): Promise<NodeReport> {
  await Deno.mkdir(out);
  const child = new Deno.Command("node", {
    args: [`${work}/peers.mjs`],
    cwd: work,
    env: {
      FLIGHTLOG_NODE_MODULE: `file://${work}/flightlog/mod.js`,
      FLIGHTLOG_BENCH_DIR: out,
      ...(phase === "alone" ? { FLIGHTLOG_BENCH_PHASE: "alone" } : {}),
    },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const { code, stdout } = await child.output();
  if (code !== 0) throw new Error(`the Node side exited with ${code}: see its output above`);
  return JSON.parse(new TextDecoder().decode(stdout)) as NodeReport;
}

/**
 * Runs the comparison and prints its tables; resolves to 0, or 1 when a
 * logger lost or dropped events. `deno task compare` runs it after the Deno
 * comparison (bench/compare_peers.ts); `deno task compare:node` alone.
 */
export async function compareOnNode(): Promise<number> {
  console.log(header("Peer comparison on Node.js"));
  const work = await Deno.makeTempDir({ dir: ROOT, prefix: ".compare-node-" });
  try {
    // flightlog alone, Deno and Node in turns, so that this host's slow and
    // fast phases land on both runtimes alike.
    await buildNodeSide(work);
    const deno = new Map<string, number[]>();
    const nodeAlone = new Map<string, number[]>();
    const add = (into: Map<string, number[]>, label: string, ns: number[]) =>
      into.set(label, [...(into.get(label) ?? []), ...ns]);
    for (let turn = 0; turn < ALONE_TURNS; turn++) {
      for (const w of WORKLOADS) {
        console.error(`deno: flightlog alone, ${w.label} (turn ${turn + 1}/${ALONE_TURNS})`);
        const dir = `${work}/deno-${turn}-${w === STEP_BOUND ? "bound" : "inline"}`;
        await Deno.mkdir(dir);
        add(deno, w.label, await denoCallerCost(w, dir));
      }
      const alone = await runNode(work, `${work}/alone-${turn}`, "alone");
      for (const [label, ns] of Object.entries(alone.alone)) add(nodeAlone, label, ns);
    }
    const report = await runNode(work, `${work}/out`, "peers");
    console.log(`Node.js ${report.node} (V8 ${report.v8}) beside it\n`);
    let problems = 0;
    for (const { label, peers } of report.workloads) {
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
      const denoNs = deno.get(label)!;
      const alone = nodeAlone.get(label)!;
      const blank = ["", "", "", "", ""];
      rows.push(["flightlog alone on Deno (caller cost)", ...quartiles(denoNs), ...blank]);
      rows.push(["flightlog alone on Node (caller cost)", ...quartiles(alone), ...blank]);
      for (const peer of peers) {
        const counted: { onDisk: number; bytes: number }[] = [];
        for (const round of peer.rounds) {
          if (peer.kind === "lines") {
            counted.push({
              onDisk: await countLines(round.path),
              bytes: (await Deno.stat(round.path)).size,
            });
          } else {
            const totals = storeTotals(round.path);
            counted.push({ onDisk: totals.events - round.internal, bytes: totals.bytes });
          }
        }
        const complete = counted.every((c) => c.onDisk === report.emitted) &&
          peer.rounds.every((r) => r.dropped === 0) && peer.dropped === 0;
        if (!complete) problems++;
        const warm = peer.rounds.map((r) => (report.e2eEvents * 1000) / r.warmMs);
        const cold = peer.rounds.map((r) => (report.e2eEvents * 1000) / r.coldMs);
        const last = counted[counted.length - 1]!;
        rows.push([
          `${peer.name} on Node`,
          ...quartiles(peer.ns),
          fmtInt(median(warm)),
          fmtInt(median(cold)),
          `${counted.map((c) => c.onDisk).join(", ")} / ${report.emitted}`,
          `${peer.dropped} + ${peer.rounds.map((r) => r.dropped).join(", ")}`,
          fmt(last.bytes / Math.max(1, last.onDisk), 0),
        ]);
      }
      console.log(`Workload: info "${STEP_BOUND.event}", ${label}\n`);
      console.log(table(rows, ["l", "r", "r", "r", "r", "r", "r", "r", "r"]));
      const mine = median([...peers.find((p) => p.kind === "store")!.ns]);
      const transport = median([...peers[0]!.ns]);
      console.log(
        `\nflightlog alone: Node ${fmt(median([...alone]), 1)} ns, Deno ` +
          `${fmt(median([...denoNs]), 1)} ns: ${
            fmt(median([...alone]) / median([...denoNs]), 2)
          }×. ` +
          `Beside pino on Node: pino.transport costs ${fmt(transport / mine, 1)}× flightlog.\n`,
      );
    }
    console.log(
      `ns/call: ${report.batches} batches of ${report.batch} calls per logger (after ` +
        `${report.warmup} warm-up batches), every logger settled between rounds. events/s: a ` +
        `fresh logger and file each round: cold, its first ${report.e2eEvents} events; warm, ` +
        `${report.e2eEvents} more after ${report.emitted - 2 * report.e2eEvents} untimed ones. ` +
        "dropped: caller-cost " +
        "phase + each end-to-end round. On disk: counted here (lines; flightlog's stores " +
        `through the Deno SegmentStore). Alone: ${ALONE_TURNS} turns of Deno then Node, ` +
        "their samples pooled per runtime (Node keeps its second phase of each turn).",
    );
    if (problems !== 0) console.log(`\n${problems} logger(s) lost or dropped events.`);
    return problems === 0 ? 0 : 1;
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

if (import.meta.main) Deno.exitCode = await compareOnNode();
