/**
 * Matrix item 7, decoder fuzzing of ring bytes: random and mutated records
 * and whole rings never crash or hang the decoder; anything it cannot read is
 * a `RecordDecodeError` (counted by the consumer), a declared length or count
 * longer than the input is rejected before allocating, and nesting is capped.
 * Segment files are fuzzed in tests/store/record_scanner_test.ts and
 * tests/store/segment_store_recovery_test.ts; IndexedDB records come with the
 * browser store (add them to {@linkcode fuzzTargets} then). The long run is
 * `deno task soak`.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Decoder,
  Encoder,
  MAX_DECODE_DEPTH,
  RecordDecodeError,
  Tag,
} from "../../src/wire/codec.ts";
import { Consumer } from "../../src/worker/consumer.ts";
import {
  createControlBuffer,
  createRingBuffer,
  HEAD,
  HEADER_BYTES,
  RECORD_FIXED_BYTES,
} from "../../src/wire/ring.ts";
import { MemoryStore } from "../support/memory_store.ts";

/** Valid records to mutate: every value kind, bindings, a definition. */
export function sampleRecords(): Uint8Array[] {
  const enc = new Encoder();
  const out: Uint8Array[] = [];
  const fields = [
    { a: 1, b: "two", c: [1, 2, { d: null }], e: new Date(5), f: 2n ** 70n, g: -0 },
    {
      err: Object.assign(new Error("boom", { cause: "x" }), { code: "E1" }),
      m: new Map([["k", 1]]),
    },
    { s: "é".repeat(300), big: 1.5e300, t: true, u: undefined },
  ];
  for (const f of fields) out.push(enc.buf.slice(0, enc.encode(1, 2, 9, 0, "ev", f, 0)));
  out.push(enc.buf.slice(0, enc.encode(2, 3, 17, 0, "ev", { x: 1 }, 3)));
  out.push(enc.encodeBindings({ flow_id: "f", run_id: "r" }, 3));
  return out;
}

/**
 * Decodes `bytes` (a framed record) as the consumer would; returns "ok",
 * "rejected" (a RecordDecodeError) or throws anything else.
 */
export function decodeOnce(decoder: Decoder, bytes: Uint8Array): "ok" | "rejected" {
  if (bytes.length < RECORD_FIXED_BYTES) return "rejected";
  try {
    if (Decoder.isDefinition(bytes, 4)) decoder.define(bytes, 4, bytes.length);
    else decoder.decode(bytes, 4, bytes.length, "p.0");
    return "ok";
  } catch (err) {
    if (err instanceof RecordDecodeError) return "rejected";
    throw err;
  }
}

/** The fuzz targets: each takes bytes and must not throw. */
export const fuzzTargets = {
  record(bytes: Uint8Array): void {
    const decoder = new Decoder();
    decoder.recovering = bytes.length % 2 === 0;
    decodeOnce(decoder, bytes);
  },
  ring(bytes: Uint8Array): void {
    const control = createControlBuffer(true);
    const ring = createRingBuffer(4096, true);
    const data = new Uint8Array(ring, HEADER_BYTES, 4096);
    data.set(bytes.subarray(0, 4096));
    Atomics.store(new Int32Array(ring, 0, 1), HEAD, Math.min(bytes.length, 4096));
    const consumer = new Consumer(new MemoryStore(), control);
    consumer.addRing("p.0", ring);
    consumer.drain();
  },
};

/** One mutation of a byte string (flip, cut, overwrite, insert, length word). */
export const mutation = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ maxLength: 32 }),
  }),
  fc.record({
    kind: fc.constant("u32" as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 1, 0x7fffffff, 0xfffffff0, 0xffffffff),
  }),
);

/** Applies mutations, keeping the record's own length word consistent half of the time. */
/** A mutation drawn from {@linkcode mutation}. */
export type Mutation = {
  kind: string;
  at: number;
  bit?: number;
  value?: number;
  bytes?: Uint8Array;
};

export function mutate(base: Uint8Array, ms: Mutation[], fixLength: boolean): Uint8Array {
  let b = base.slice();
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === "flip" && b.length > 0) b[at]! ^= 1 << m.bit!;
    if (m.kind === "cut") b = b.slice(0, at);
    if (m.kind === "set" && b.length > 0) b[at] = m.value!;
    if (m.kind === "insert") {
      const n = new Uint8Array(b.length + m.bytes!.length);
      n.set(b.subarray(0, at));
      n.set(m.bytes!, at);
      n.set(b.subarray(at), at + m.bytes!.length);
      b = n;
    }
    if (m.kind === "u32" && b.length >= 4) {
      new DataView(b.buffer).setUint32(Math.min(at, b.length - 4), m.value!, true);
    }
  }
  if (fixLength && b.length >= 4) new DataView(b.buffer).setUint32(0, b.length - 4, true);
  return b;
}

Deno.test("Decoder.decode() never throws anything but RecordDecodeError on random bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 512 }), (bytes) => {
      fuzzTargets.record(bytes);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("Decoder.decode() never throws anything but RecordDecodeError on mutated records", () => {
  const samples = sampleRecords();
  fc.assert(
    fc.property(
      fc.nat(samples.length - 1),
      fc.array(mutation, { minLength: 1, maxLength: 5 }),
      fc.boolean(),
      (which, ms, fix) => {
        fuzzTargets.record(mutate(samples[which]!, ms, fix));
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("Consumer.drain() never throws or hangs on a ring full of random or mutated bytes", () => {
  const samples = sampleRecords();
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 4096 }),
        fc.tuple(
          fc.array(fc.nat(samples.length - 1), { minLength: 1, maxLength: 20 }),
          fc.array(mutation, { maxLength: 6 }),
        )
          .map(([picks, ms]) => {
            const joined = new Uint8Array(picks.reduce((n, i) => n + samples[i]!.length, 0));
            let at = 0;
            for (const i of picks) {
              joined.set(samples[i]!, at);
              at += samples[i]!.length;
            }
            return mutate(joined, ms, false);
          }),
      ),
      (bytes) => fuzzTargets.ring(bytes),
    ),
    { numRuns: 500 },
  );
});

Deno.test("Decoder.decode() rejects a declared length or count past the record before allocating", () => {
  for (const tag of [Tag.STR, Tag.PLACEHOLDER, Tag.ARRAY, Tag.OBJECT]) {
    const enc = new Encoder();
    const len = enc.encode(1, 0, 9, 0, "e", { v: null });
    // The last byte is the value of "v" (a NULL tag): make it claim 4 GiB.
    const at = len - 1;
    const bytes = enc.buf.slice(0, len + 8);
    bytes[at] = tag;
    new DataView(bytes.buffer).setUint32(at + 1, 0xfffffff0, true);
    new DataView(bytes.buffer).setUint32(0, at + 5 - 4, true);
    const before = Deno.memoryUsage().rss;
    for (let i = 0; i < 1000; i++) {
      assert.throws(
        () => new Decoder().decode(bytes, 4, at + 5, "p"),
        (e: unknown) =>
          e instanceof RecordDecodeError && /longer than the record|ends inside/.test(e.message),
      );
    }
    // 1,000 claims of 4 GiB each, yet no growth past noise.
    assert.ok(Deno.memoryUsage().rss - before < 64 * 1024 * 1024);
  }
});

Deno.test("Decoder.decode() caps nesting at MAX_DECODE_DEPTH instead of exhausting the stack", () => {
  const depth = 20_000;
  const head = new Encoder();
  const len = head.encode(1, 0, 9, 0, "e", { v: null });
  const prefix = head.buf.slice(0, len - 1); // up to the value of "v"
  const nest = new Uint8Array(depth * 5 + 1);
  const dv = new DataView(nest.buffer);
  for (let i = 0; i < depth; i++) {
    nest[i * 5] = Tag.ARRAY;
    dv.setUint32(i * 5 + 1, 1, true);
  }
  nest[depth * 5] = Tag.NULL;
  const bytes = new Uint8Array(prefix.length + nest.length);
  bytes.set(prefix);
  bytes.set(nest, prefix.length);
  new DataView(bytes.buffer).setUint32(0, bytes.length - 4, true);
  assert.throws(
    () => new Decoder().decode(bytes, 4, bytes.length, "p"),
    new RegExp(`nested deeper than ${MAX_DECODE_DEPTH}`),
  );
});
