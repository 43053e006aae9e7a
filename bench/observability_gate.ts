/**
 * The observability gate (`deno task gate:obs`): medians, in one process, of
 * what issue 3 adds to a caller, printed as a table; exits with status 1 when
 * a budget is exceeded.
 *
 * | figure                                             | budget (fails the gate) | goal    |
 * | -------------------------------------------------- | ----------------------- | ------- |
 * | `observable()` no-op sync node, entry + exit saved | median ≤ 20 µs          | ≤ 1 µs  |
 * | the same, async node (one await per call)          | reported                | –       |
 * | info call, default key redaction vs `redact:false` | reported (ratio)        | ≤ 1.1 × |
 * | info call inside `withContext()` vs outside        | reported (ratio)        | –       |
 * | context propagation per `await`                    | reported                | –       |
 *
 * Each figure is a median over many batches; figures that are compared are
 * measured interleaved in the same batches, so drift in the speed of the
 * shared machine hits both. A task, not a test: nothing here runs under
 * `deno test`.
 *
 * @module
 */
import type { Logger } from "../mod.ts";
import { observable } from "../src/integrations/observable.ts";
import { withContext } from "../src/front/context.ts";
import {
  BATCH,
  BATCHES,
  benchFlow,
  CALLER_RING,
  fmt,
  infoLoop,
  interleave,
  median,
  quartiles,
  runtimeLine,
  table,
  timeLoop,
  WARMUP,
} from "./_workload.ts";

const BUDGET_NODE_NS = 20_000;
const GOAL_NODE_NS = 1_000;
const AWAITS = 100;

function now(): number {
  return performance.now();
}

async function main(): Promise<number> {
  const open = (redact: boolean | { patterns: true }) =>
    benchFlow({ transport: "sab", ringBytes: CALLER_RING, redact });
  const plain = open(false);
  const keys = open(true);
  const patterns = open({ patterns: true });
  const info = (flow: Logger) => timeLoop((n) => infoLoop(flow, n), BATCH);
  try {
    // Redaction, before any withContext(): interleaved, same batches.
    const [rPlain, rKeys, rPatterns] = await interleave(
      [plain, keys, patterns].map(({ flow }) => ({ loop: (n: number) => infoLoop(flow, n) })),
      {
        afterRound: async () => {
          await Promise.all([plain.log.flush(), keys.log.flush(), patterns.log.flush()]);
        },
      },
    );
    const r = { plain: rPlain!, keys: rKeys!, patterns: rPatterns! };

    // observable() no-op nodes, sync and async.
    const noop = (x: number) => x + 1;
    const asyncNoop = async (x: number) => await x + 1;
    const syncNode = observable(noop, { logger: keys.flow, node: "noop" });
    const asyncNode = observable(asyncNoop, { logger: keys.flow, node: "noop_async" });
    let sink = 0;
    const direct: number[] = [];
    const sync: number[] = [];
    const asyncDirect: number[] = [];
    const asyncObs: number[] = [];
    for (let b = 0; b < WARMUP + BATCHES; b++) {
      let t0 = now();
      for (let i = 0; i < BATCH; i++) sink += noop(i);
      const d = ((now() - t0) * 1e6) / BATCH;
      t0 = now();
      for (let i = 0; i < BATCH; i++) sink += syncNode(i);
      const s = ((now() - t0) * 1e6) / BATCH;
      await keys.log.flush();
      t0 = now();
      for (let i = 0; i < BATCH; i++) sink += await asyncNoop(i);
      const ad = ((now() - t0) * 1e6) / BATCH;
      t0 = now();
      for (let i = 0; i < BATCH; i++) sink += await asyncNode(i);
      const ao = ((now() - t0) * 1e6) / BATCH;
      await keys.log.flush();
      if (b >= WARMUP) {
        direct.push(d);
        sync.push(s);
        asyncDirect.push(ad);
        asyncObs.push(ao);
      }
    }

    // Context: a log call inside a stable withContext() frame vs outside it
    // (both now that the context lookup is on), and the cost per await.
    const inCtx: number[] = [];
    const outCtx: number[] = [];
    const awaitsPlain: number[] = [];
    const awaitsCtx: number[] = [];
    const chain = async () => {
      let n = 0;
      for (let i = 0; i < AWAITS; i++) n += await i;
      return n;
    };
    for (let b = 0; b < WARMUP + BATCHES; b++) {
      const o = info(keys.flow);
      const c = withContext({ flow_id: "f-gate", run_id: "r-gate" }, () => info(keys.flow));
      await keys.log.flush();
      let t0 = now();
      sink += await chain();
      const ap = ((now() - t0) * 1e6) / AWAITS;
      t0 = now();
      sink += await withContext({ flow_id: "f", run_id: "r", step_id: "s" }, chain);
      const ac = ((now() - t0) * 1e6) / AWAITS;
      if (b >= WARMUP) {
        outCtx.push(o);
        inCtx.push(c);
        awaitsPlain.push(ap);
        awaitsCtx.push(ac);
      }
    }
    if (sink === 42) console.log(sink);

    const row = (label: string, xs: number[]) => [label, ...quartiles(xs)];
    console.log(runtimeLine());
    console.log(
      `${BATCHES} batches of ${BATCH} calls (${AWAITS} awaits for the await rows); ns per call`,
    );
    console.log(
      table([
        ["figure", "median", "p25", "p75"],
        row("info, redact: false", r.plain),
        row("info, default sensitive keys", r.keys),
        row("info, keys + value patterns", r.patterns),
        row("direct call of a no-op function", direct),
        row("observable() no-op sync node (entry + exit)", sync),
        row("await of a direct async no-op", asyncDirect),
        row("await of an observable() async no-op node", asyncObs),
        row("info outside withContext() (lookup on)", outCtx),
        row("info inside withContext()", inCtx),
        row("per await, no context", awaitsPlain),
        row("per await, inside withContext()", awaitsCtx),
      ], ["l", "r", "r", "r"]),
    );
    const m = (xs: number[]) => median([...xs]);
    const nodeNs = m(sync) - m(direct);
    console.log(
      `\nobservable() overhead per sync node: ${fmt(nodeNs)} ns (goal ≤ ${GOAL_NODE_NS} ns: ${
        nodeNs <= GOAL_NODE_NS ? "met" : "not met"
      }; budget ≤ ${BUDGET_NODE_NS} ns)`,
    );
    console.log(`observable() overhead per async node: ${fmt(m(asyncObs) - m(asyncDirect))} ns`);
    console.log(`key redaction: ${fmt(m(r.keys) / m(r.plain), 3)} × redact:false`);
    console.log(`value patterns: ${fmt(m(r.patterns) / m(r.plain), 3)} × redact:false`);
    console.log(`inside withContext(): ${fmt(m(inCtx) / m(outCtx), 3)} × outside`);
    console.log(`context propagation: ${fmt(m(awaitsCtx) - m(awaitsPlain))} ns per await`);
    const ok = nodeNs <= BUDGET_NODE_NS;
    console.log(ok ? "\ngate: passed" : "\ngate: FAILED");
    return ok ? 0 : 1;
  } finally {
    // Their directories go when the process unloads.
    await Promise.all([plain.log.close(), keys.log.close(), patterns.log.close()]);
  }
}

Deno.exit(await main());
