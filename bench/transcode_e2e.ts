/**
 * End to end, two source trees in one process, rounds alternated: a logger of
 * each tree (`sab`, 16 MiB ring, `overflow: "block"`, segment files in a temp
 * dir) takes N calls of the two workloads of `deno task compare` and is
 * flushed; prints events/s (calls to flushed) and drops per round, then the
 * medians. With `DRAIN=1`: the `inline` transport (64 MiB ring) instead, the
 * calls untimed, then the flush timed: the consumer's cost alone, on the
 * caller's thread, without a second core.
 *
 *   git archive main | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/
 *   deno run -A bench/transcode_e2e.ts /tmp/base "$PWD"
 *
 * @module
 */
import { BINDINGS, callFields, EVENT, median, stepInlineFields } from "./_workload.ts";

type Mod = typeof import("../mod.ts");
const [baseRoot, newRoot] = Deno.args;
if (baseRoot === undefined || newRoot === undefined) {
  console.error("Usage: transcode_e2e.ts BASE_TREE NEW_TREE (two checkouts of flightlog)");
  Deno.exit(2);
}
const trees: Mod[] = [await import(`${baseRoot}/mod.ts`), await import(`${newRoot}/mod.ts`)];
const N = Number(Deno.env.get("EVENTS") ?? 200_000);
const ROUNDS = Number(Deno.env.get("ROUNDS") ?? 4);

const DRAIN = Deno.env.get("DRAIN") === "1";

async function round(m: Mod, kind: "inline" | "bound"): Promise<[number, number]> {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-tc-" });
  const log = DRAIN
    ? m.createLogger({ dir, transport: "inline", ringBytes: 64 << 20, exitHooks: false })
    : m.createLogger({ dir, ringBytes: 16 << 20, overflow: "block", exitHooks: false });
  try {
    await log.flush();
    const flow = log.child(BINDINGS);
    let t0 = performance.now();
    if (kind === "inline") {
      for (let i = 0; i < N; i++) log.info("step_end", stepInlineFields(i));
    } else for (let i = 0; i < N; i++) flow.info(EVENT, callFields(i));
    if (DRAIN) t0 = performance.now();
    await log.flush();
    const ms = performance.now() - t0;
    return [N / ms * 1000, log.stats().dropped];
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const rates: number[][][] = [[[], []], [[], []]];
for (let r = 0; r < ROUNDS; r++) {
  for (const w of (r & 1) ? [1, 0] : [0, 1]) {
    for (const [k, kind] of (["inline", "bound"] as const).entries()) {
      const [rate, dropped] = await round(trees[w]!, kind);
      rates[w]![k]!.push(rate);
      console.log(
        `round ${r} ${w === 0 ? "base" : "new "} ${kind}: ${(rate / 1e6).toFixed(2)} M events/s, ` +
          `dropped ${dropped}`,
      );
    }
  }
}
for (const [k, kind] of ["inline", "bound"].entries()) {
  console.log(
    `${kind}: median base ${(median(rates[0]![k]!) / 1e6).toFixed(2)}, new ${
      (median(rates[1]![k]!) / 1e6).toFixed(2)
    } M events/s`,
  );
}
