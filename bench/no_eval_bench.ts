/**
 * What the browser bundles give up by never letting msgpackr compile a record
 * reader with `new Function` (scripts/build.ts "msgpackr no-eval", so a
 * strict Content Security Policy reports nothing): group `"decode"` unpacks a
 * stored batch of 50 events of one shape, as `src/store/payload_codec.ts`
 * does, with msgpackr's usual reader and with its own no-eval build (the same
 * source with that one call blocked).
 *
 * Run with `deno task bench` (or `deno bench --allow-read bench/no_eval_bench.ts`).
 *
 * @module
 */
import { createRequire } from "node:module";
import { Packr } from "msgpackr/pack";
import { Unpackr } from "msgpackr/unpack";

const require = createRequire(import.meta.url);
const NoEval = require("../node_modules/msgpackr/dist/unpack-no-eval.cjs") as {
  Unpackr: typeof Unpackr;
};

const packr = new Packr({ useRecords: true, maxSharedStructures: 0 });
const batch = packr.pack(Array.from({ length: 50 }, (_, i) => ({
  ts_ms: 1795000000000 + i,
  level: "info",
  event: "step_end",
  fields: { flow_id: "f-1", run_id: "r-1", step_id: `s${i}`, duration_ms: 12.5, status: "ok" },
})));
const withEval = new Unpackr({ useRecords: true, copyBuffers: true });
const noEval = new NoEval.Unpackr({ useRecords: true, copyBuffers: true });

Deno.bench({
  group: "decode",
  name: "msgpackr unpack, 50 events (compiled readers, as in Deno)",
  baseline: true,
  fn() {
    withEval.unpack(batch);
  },
});

Deno.bench({
  group: "decode",
  name: "msgpackr unpack, 50 events (no eval, as in the browser bundles)",
  fn() {
    noEval.unpack(batch);
  },
});
