/**
 * `Decoder.decode` of two source trees in one process, rounds alternated: the
 * consumer-decode stage (1,024-record batches, as the worker commits them) of
 * three workloads: `inline` (seven ids inline, `step_id` a fresh "step-N" per
 * call), `const` (the same with a constant `step_id`) and `unique` (five fresh
 * short strings per event). Prints the median ns/event of 500 batches each.
 *
 *   git archive main | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/
 *   deno run -A bench/decoder_ab.ts /tmp/base "$PWD"
 *
 * @module
 */
import { median } from "./_workload.ts";

type Codec = typeof import("../src/wire/codec.ts");
type Batch = { bytes: Uint8Array; at: number[]; end: number[] };

const [baseRoot, newRoot] = Deno.args;
if (baseRoot === undefined || newRoot === undefined) {
  console.error("Usage: decoder_ab.ts BASE_TREE NEW_TREE (two checkouts of flightlog)");
  Deno.exit(2);
}
const trees: Codec[] = [
  await import(`${baseRoot}/src/wire/codec.ts`),
  await import(`${newRoot}/src/wire/codec.ts`),
];
const B = 1024;

function fieldsOf(kind: string, n: number): Record<string, unknown> {
  if (kind === "unique") {
    return { a: "k" + n, b: "x-" + n, c: "y" + n * 7, d: "zz-" + n, e: "w" + n };
  }
  return {
    flow_id: "f-7c1e2a90",
    run_id: "r-20261122-0042",
    job_id: "j-318",
    step_id: kind === "const" ? "step-1" : "step-" + n,
    step_type: "http",
    duration_ms: 12.5 + (n & 1023),
    status: "ok",
  };
}

function batch(kind: string, offset: number): Batch {
  const enc = new trees[0]!.Encoder();
  const chunks: Uint8Array[] = [];
  const at: number[] = [];
  const end: number[] = [];
  let size = 0;
  for (let i = 0; i < B; i++) {
    const len = enc.encode(offset + i, 0, 9, 0, "step_end", fieldsOf(kind, offset + i), 0);
    chunks.push(enc.buf.slice(0, len));
    at.push(size + 4); // the Decoder takes a record without its length word
    end.push(size + len);
    size += len;
  }
  const bytes = new Uint8Array(size);
  chunks.forEach((c, k) => bytes.set(c, at[k]! - 4));
  return { bytes, at, end };
}

for (const kind of ["inline", "const", "unique"]) {
  const batches = Array.from({ length: 8 }, (_, k) => batch(kind, k * B));
  const decoders = trees.map((t) => new t.Decoder());
  // Both trees must decode the same events before their times mean anything.
  for (const b of batches) {
    for (let k = 0; k < B; k++) {
      const [x, y] = decoders.map((d) =>
        JSON.stringify(d.decode(b.bytes, b.at[k]!, b.end[k]!, "p"))
      );
      if (x !== y) throw new Error(`The trees decode ${kind} record ${k} differently`);
    }
  }
  const times: number[][] = [[], []];
  let sink = 0;
  for (let r = 0; r < 600; r++) {
    const b = batches[r % 8]!;
    for (const w of (r & 1) ? [1, 0] : [0, 1]) {
      const d = decoders[w]!;
      const t0 = performance.now();
      for (let k = 0; k < B; k++) sink += d.decode(b.bytes, b.at[k]!, b.end[k]!, "p").seq;
      if (r >= 100) times[w]!.push((performance.now() - t0) * 1e6 / B);
    }
  }
  console.log(
    `${kind}: Decoder.decode ns/event, median: base ${median(times[0]!).toFixed(0)}, new ${
      median(times[1]!).toFixed(0)
    } (${sink > 0 ? "checked" : ""})`,
  );
}
