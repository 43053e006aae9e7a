/**
 * The whole log call of one source tree, one process per tree: ns a call
 * (median of 300 batches of 1,000 calls after 300 warm-up batches, the ring
 * flushed after each batch) for the issue's inline workload, the gate's bound
 * workload and a disabled level, plus the ring bytes of one record of each.
 * Two trees in one process disturb each other's figures (their loggers share
 * the isolate and both trees' workers the two cores), so alternate processes:
 *
 *   git archive main | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/
 *   for i in 1 2 3; do for t in /tmp/base "$PWD"; do
 *     deno run -A bench/caller_cost.ts "$t"; done; done
 *
 * `deno run -A bench/caller_cost.ts TREE curve` prints the bound call's cost
 * from the first call on instead (the warm-up and the ring's first lap).
 *
 * @module
 */
import { BINDINGS, interleave, quartiles } from "./_workload.ts";

type Mod = typeof import("../mod.ts");
type Logger = import("../mod.ts").Logger;

const root = Deno.args[0] ?? new URL("..", import.meta.url).pathname;
// "curve": the bound call from the first batch on, as bench/browser_bench.ts
// runs it (8 MiB ring, flushed every 8 batches): medians of 20-batch groups.
const curve = Deno.args[1] === "curve";
const transport = Deno.env.get("TRANSPORT") === "inline" ? "inline" : "sab";
const mod: Mod = await import(`${root}/mod.ts`);

function inlineLoop(log: Logger, n: number): void {
  for (let i = 0; i < n; i++) {
    log.info("step_end", {
      flow_id: "f-7c1e2a90",
      run_id: "r-20261122-0042",
      job_id: "j-318",
      step_id: "step-" + i,
      step_type: "http",
      duration_ms: 12.5 + (i & 1023),
      status: "ok",
    });
  }
}
function boundLoop(log: Logger, n: number): void {
  for (let i = 0; i < n; i++) {
    log.info("step_end", { duration_ms: 12.5 + (i & 1023), status: "ok" });
  }
}
function disabledLoop(log: Logger, n: number): void {
  for (let i = 0; i < n; i++) {
    log.debug("step_end", { duration_ms: 12.5 + (i & 1023), status: "ok" });
  }
}

// Ring bytes a call takes once warm, on an `inline` logger (its ring is
// drained by a timer, never during this synchronous code).
async function recordBytes(
  make: (log: Logger) => Logger,
  loop: (log: Logger, n: number) => void,
): Promise<number> {
  const root = mod.createLogger({
    transport: "inline",
    exitHooks: false,
    dir: `${dir}/bytes-${++stores}`,
  });
  const log = make(root);
  loop(log, 3);
  const before = root.stats().ring_used;
  loop(log, 1);
  const bytes = root.stats().ring_used - before;
  await root.close();
  return bytes;
}

async function warmUpCurve(): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "flightlog-caller-curve-" });
  const log = mod.createLogger({ dir, transport, ringBytes: 8 << 20, exitHooks: false });
  const step = log.child({ ...BINDINGS });
  const ns: number[] = [];
  try {
    for (let b = 0; b < 400; b++) {
      const t0 = performance.now();
      boundLoop(step, 1000);
      ns.push((performance.now() - t0) * 1e3);
      if (b % 8 === 7) await log.flush();
    }
  } finally {
    await log.close();
    Deno.removeSync(dir, { recursive: true });
  }
  const groups: string[] = [];
  for (let g = 0; g < ns.length; g += 20) groups.push(quartiles(ns.slice(g, g + 20))[0]);
  console.log(`${root} (${transport}), bound, ns a call by 20-batch group: ${groups.join(" ")}`);
}
if (curve) {
  await warmUpCurve();
  Deno.exit(0);
}

let stores = 0;
const dir = Deno.makeTempDirSync({ prefix: "flightlog-caller-cost-" });
const opts = { transport, ringBytes: 16 << 20, exitHooks: false, level: "info" } as const;
const a = mod.createLogger({ ...opts, dir: `${dir}/a` });
const b = mod.createLogger({ ...opts, dir: `${dir}/b` });
const bound = b.child({ ...BINDINGS });
try {
  await a.flush();
  await b.flush();
  const [inline, boundNs, disabled] = await interleave([
    { loop: (n) => inlineLoop(a, n), settle: () => a.flush() },
    { loop: (n) => boundLoop(bound, n), settle: () => b.flush() },
    { loop: (n) => disabledLoop(bound, n) },
  ], { batch: 1000, warmup: 300, batches: 300 });
  const bytes = [
    await recordBytes((l) => l, inlineLoop),
    await recordBytes((l) => l.child({ ...BINDINGS }), boundLoop),
  ];
  const dropped = a.stats().dropped + b.stats().dropped;
  console.log(
    `${root} (${transport}): inline ${quartiles(inline!)[0]} ns, bound ${
      quartiles(boundNs!)[0]
    } ns, disabled ${quartiles(disabled!, 2)[0]} ns; ring bytes a record: inline ${bytes[0]}, ` +
      `bound ${bytes[1]}; dropped ${dropped}`,
  );
} finally {
  await a.close();
  await b.close();
  Deno.removeSync(dir, { recursive: true });
}
