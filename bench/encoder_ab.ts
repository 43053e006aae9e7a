/**
 * The caller's cost of two source trees in one process, batches interleaved:
 * the encoder alone (scratch buffer, no clock, no ring) and a whole `info()`
 * call on a `sab` logger (16 MiB ring, flushed after each batch; `inline`
 * with TRANSPORT=inline), for four
 * workloads: `inline` (seven ids inline, `step_id` a fresh "step-N" per call,
 * a float), `const` (the same with a constant `step_id`), `unique` (five
 * fresh short strings per call: what a value cache must not slow down) and
 * `bound` (the gate's: seven ids bound with `child()`, two fields per call).
 * Prints medians of ns a call, the new tree's ratio to the base, and the ring
 * bytes of one record of each workload. `decode` times the worker's side
 * instead: `Decoder.decode` of 1,024-record batches as each tree writes them.
 *
 *   git archive main | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/
 *   deno run -A bench/encoder_ab.ts /tmp/base "$PWD" [encoder|info|both|decode] [inline,bound,…]
 *
 * @module
 */
import { BINDINGS, interleave, quartiles } from "./_workload.ts";

type Codec = typeof import("../src/wire/codec.ts");
type Mod = typeof import("../mod.ts");
type Logger = import("../mod.ts").Logger;

const [baseRoot, newRoot, what = "both", only] = Deno.args;
if (baseRoot === undefined || newRoot === undefined) {
  console.error("Usage: encoder_ab.ts BASE_TREE NEW_TREE [encoder|info|both] [WORKLOAD,…]");
  Deno.exit(2);
}
const roots = [baseRoot, newRoot];
const codecs: Codec[] = await Promise.all(roots.map((r) => import(`${r}/src/wire/codec.ts`)));
const mods: Mod[] = await Promise.all(roots.map((r) => import(`${r}/mod.ts`)));

// Each workload's fields as source text, so every contender gets its own
// compiled copy of the loop (no call site shared between the trees' classes).
const FIELDS: Record<string, string> = {
  inline: `{ flow_id: "f-7c1e2a90", run_id: "r-20261122-0042", job_id: "j-318",
    step_id: "step-" + i, step_type: "http", duration_ms: 12.5 + (i & 1023), status: "ok" }`,
  const: `{ flow_id: "f-7c1e2a90", run_id: "r-20261122-0042", job_id: "j-318",
    step_id: "step-1", step_type: "http", duration_ms: 12.5 + (i & 1023), status: "ok" }`,
  unique: `{ a: "k" + i, b: "x-" + i, c: "y" + i * 7, d: "zz-" + i, e: "w" + (i ^ 5) }`,
  bound: `{ duration_ms: 12.5 + (i & 1023), status: "ok" }`,
};
// "inline" drains in settle(), untimed, on this thread: no worker competes
// with the timed calls for the two cores of a shared machine.
const TRANSPORT = Deno.env.get("TRANSPORT") === "inline" ? "inline" : "sab";
// One workload per process gives steadier figures: every logger has a worker.
const KINDS = only === undefined ? Object.keys(FIELDS) : only.split(",");

type Loop = (target: unknown, n: number) => void;

// An encoder with shapes on, its workload's shape defined as a producer
// would define it (SHAPES=1, for a tree that has shapes).
function shapedEncoder(codec: Codec, kind: string): InstanceType<Codec["Encoder"]> {
  const enc = new codec.Encoder();
  enc.shapes = true;
  enc.epoch = 1;
  const make = new Function("i", `return ${FIELDS[kind]};`) as (
    i: number,
  ) => Record<string, unknown>;
  enc.encode(0, 0, 9, 0, "step_end", make(0), 0);
  const shape = enc.pending;
  if (shape !== null) {
    shape.definition = { id: 1, epoch: 1 };
    shapeOf.set(enc, shape);
  }
  enc.pending = null;
  return enc;
}
const shapeOf = new WeakMap<object, NonNullable<InstanceType<Codec["Encoder"]>["pending"]>>();
function encoderLoop(kind: string): Loop {
  return new Function(
    "enc",
    "n",
    `for (let i = 0; i < n; i++) enc.encode(i, 0, 9, 0, "step_end", ${FIELDS[kind]}, 0);`,
  ) as Loop;
}
function infoLoop(kind: string): Loop {
  return new Function(
    "log",
    "n",
    `for (let i = 0; i < n; i++) log.info("step_end", ${FIELDS[kind]});`,
  ) as Loop;
}

function report(names: string[], samples: number[][]): void {
  for (let k = 0; k < names.length; k += 2) {
    const [b] = quartiles(samples[k]!);
    const [a, q1, q3] = quartiles(samples[k + 1]!);
    const ratio = Number(a) / Number(b);
    console.log(
      `${names[k]!.padEnd(18)} base ${b.padStart(6)} ns  new ${a.padStart(6)} ns ` +
        `(IQR ${q1}–${q3})  new/base ${ratio.toFixed(3)}`,
    );
  }
}

if (what === "encoder" || what === "both") {
  const encs = codecs.map((c) => new c.Encoder());
  const names: string[] = [];
  const contenders = [];
  for (const kind of KINDS) {
    for (let t = 0; t < 2; t++) {
      const loop = encoderLoop(kind);
      const enc = Deno.env.get("SHAPES") === "1" && "shapes" in encs[t]!
        ? shapedEncoder(codecs[t]!, kind)
        : encs[t]!;
      names.push(`encoder ${kind}`);
      contenders.push({ loop: (n: number) => loop(enc, n) });
    }
  }
  report(names, await interleave(contenders, { batch: 1000, warmup: 300, batches: 300 }));
}

if (what === "info" || what === "both") {
  const dir = Deno.makeTempDirSync({ prefix: "flightlog-encoder-ab-" });
  const loggers: Logger[] = [];
  try {
    const names: string[] = [];
    const contenders = [];
    for (const kind of KINDS) {
      for (let t = 0; t < 2; t++) {
        const root = mods[t]!.createLogger({
          dir: `${dir}/${kind}-${t}`,
          transport: TRANSPORT,
          ringBytes: 16 << 20,
          exitHooks: false,
        });
        loggers.push(root);
        const log = kind === "bound" ? root.child({ ...BINDINGS }) : root;
        await root.flush();
        const loop = infoLoop(kind);
        names.push(`info ${kind}`);
        contenders.push({ loop: (n: number) => loop(log, n), settle: () => root.flush() });
      }
    }
    report(names, await interleave(contenders, { batch: 1000, warmup: 200, batches: 300 }));
    const dropped = loggers.map((l) => l.stats().dropped);
    if (dropped.some((d) => d !== 0)) console.log(`dropped: ${dropped.join(", ")}`);
  } finally {
    for (const l of loggers) await l.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

// The worker's decode of 1,024-record batches of each workload, as the
// producer of each tree writes them (shapes defined where the tree has them).
if (what === "decode") {
  const B = 1024;
  for (const kind of KINDS.filter((k) => k !== "bound")) {
    const make = new Function("i", `return ${FIELDS[kind]};`) as (
      i: number,
    ) => Record<string, unknown>;
    const sides = codecs.map((codec) => {
      const plain = new codec.Encoder();
      const enc = "shapes" in plain ? shapedEncoder(codec, kind) : plain;
      const dec = new codec.Decoder();
      const shape = shapeOf.get(enc);
      if (shape !== undefined) {
        const def = enc.encodeShape(shape, 1);
        new DataView(def.buffer).setUint32(4, 1, true);
        dec.define(def, 4, new DataView(def.buffer).getUint32(0, true) + 4);
      }
      const batches = Array.from({ length: 8 }, (_, k) => {
        const bytes = new Uint8Array(B * 256);
        const at: number[] = [];
        const end: number[] = [];
        let size = 0;
        for (let i = 0; i < B; i++) {
          const len = enc.encode(k * B + i, 0, 9, 0, "step_end", make(k * B + i), 0);
          bytes.set(enc.buf.subarray(0, len), size);
          at.push(size + 4);
          end.push(size + len);
          size += (len + 3) & ~3;
        }
        return { bytes, at, end, size };
      });
      return { dec, batches };
    });
    const times: number[][] = [[], []];
    let sink = 0;
    for (let r = 0; r < 600; r++) {
      for (const t of (r & 1) ? [1, 0] : [0, 1]) {
        const { dec, batches } = sides[t]!;
        const b = batches[r % 8]!;
        const t0 = performance.now();
        for (let k = 0; k < B; k++) sink += dec.decode(b.bytes, b.at[k]!, b.end[k]!, "p").seq;
        if (r >= 100) times[t]!.push(((performance.now() - t0) * 1e6) / B);
      }
    }
    const [b0, b1] = sides.map((s) => s.batches[0]!.size / B);
    const [m0, m1] = times.map((x) => quartiles(x)[0]);
    if (sink < 0) console.log("unreachable");
    console.log(
      `decode ${kind.padEnd(8)} base ${m0} ns/event (${b0} ring bytes)  new ${m1} ns/event ` +
        `(${b1} ring bytes)  new/base ${(Number(m1) / Number(m0)).toFixed(3)}`,
    );
  }
}

// Ring bytes of one record, once a tree that has shapes has defined the workload's.
for (let t = 0; t < 2; t++) {
  const sizes = KINDS.map((kind) => {
    const plain = new codecs[t]!.Encoder();
    const enc = "shapes" in plain ? shapedEncoder(codecs[t]!, kind) : plain;
    const make = new Function("i", `return ${FIELDS[kind]};`) as (i: number) => object;
    let len = 0;
    for (let i = 12345; i < 12347; i++) {
      len = enc.encode(i, 0, 9, 0, "step_end", make(i) as Record<string, unknown>, 0);
    }
    return `${kind} ${(len + 3) & ~3}`;
  });
  console.log(`${t === 0 ? "base" : "new "} encoder record bytes: ${sizes.join(", ")}`);
}
