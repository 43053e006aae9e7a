/**
 * What implicit correlation costs: an async function awaiting
 * {@linkcode AWAITS} times, outside any context and inside `withContext()`
 * (AsyncLocalStorage), so the difference divided by {@linkcode AWAITS} is the
 * propagation cost per `await`; and `withContext()` itself.
 *
 * @module
 */
import { getContext, withContext } from "../src/front/context.ts";

const AWAITS = 100;
let sink = 0;

async function chain(): Promise<number> {
  let n = 0;
  for (let i = 0; i < AWAITS; i++) n += await i;
  return n;
}

Deno.bench({
  group: "await",
  name: `${AWAITS} awaits, no context`,
  baseline: true,
  async fn() {
    sink += await chain();
  },
});

Deno.bench({
  group: "await",
  name: `${AWAITS} awaits inside withContext()`,
  async fn() {
    sink += await withContext({ flow_id: "f", run_id: "r", step_id: "s" }, chain);
  },
});

Deno.bench({
  group: "await",
  name: `${AWAITS} awaits inside withContext(), reading getContext() after each`,
  async fn() {
    sink += await withContext({ flow_id: "f", run_id: "r", step_id: "s" }, async () => {
      let n = 0;
      for (let i = 0; i < AWAITS; i++) {
        n += await i;
        if (getContext().flow_id === "f") n++;
      }
      return n;
    });
  },
});

Deno.bench({
  group: "withContext",
  name: "withContext() of 3 bindings around a sync function",
  fn() {
    sink += withContext({ flow_id: "f", run_id: "r", step_id: "s" }, () => 1);
  },
});

globalThis.addEventListener("unload", () => {
  if (sink === 42) console.log(sink);
});
