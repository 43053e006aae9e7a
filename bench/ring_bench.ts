/**
 * The producer side of the shared-memory ring (`src/ring.ts`): the copy of an
 * encoded record into the ring (group `"copy"`, cited by `src/ring.ts`) and
 * the whole `RingProducer.write()` of a typical record.
 *
 * Run with `deno task bench` (or `deno bench bench/ring_bench.ts`).
 *
 * @module
 */
import {
  createControlBuffer,
  createRingBuffer,
  HEAD,
  HEADER_BYTES,
  RingProducer,
  TAIL,
} from "../src/ring.ts";
import { Encoder } from "../src/codec.ts";
import { BINDINGS, EVENT } from "./_workload.ts";

const CAPACITY = 1 << 20;

// --- "copy": byte loop vs TypedArray.set ------------------------------------

function byteLoop(dst: Uint8Array, at: number, src: Uint8Array, len: number): void {
  for (let i = 0; i < len; i++) dst[at + i] = src[i]!;
}

// As RingProducer.write does it: 4-byte words through Int32Array views.
function wordLoop(dst: Int32Array, at: number, src: Int32Array, len: number): void {
  const words = (len + 3) >> 2;
  const a = at >> 2;
  for (let i = 0; i < words; i++) dst[a + i] = src[i]!;
}

// A subarray view, then set().
function typedSet(dst: Uint8Array, at: number, src: Uint8Array, len: number): void {
  dst.set(src.subarray(0, len), at);
}

const sharedData = new Uint8Array(new SharedArrayBuffer(HEADER_BYTES + CAPACITY), HEADER_BYTES);
const privateData = new Uint8Array(new ArrayBuffer(64 * 1024));
const sharedData32 = new Int32Array(sharedData.buffer, HEADER_BYTES, CAPACITY / 4);
const src = new Uint8Array(64 * 1024);
const src32 = new Int32Array(src.buffer);
for (let i = 0; i < src.length; i++) src[i] = (i * 31) & 0xff;

// The destination offset walks the ring as real records do, so neither variant
// profits from writing the same cache lines over and over.
function copyCase(
  group: string,
  dst: Uint8Array,
  len: number,
  where: string,
): void {
  const step = (len + 3) & ~3;
  const mask = dst.length - 1;
  let at = 0;
  Deno.bench({
    group,
    name: `TypedArray.set, ${len} B into ${where}`,
    baseline: true,
    fn() {
      at = (at + step) & mask;
      if (at + len > dst.length) at = 0;
      typedSet(dst, at, src, len);
    },
  });
  Deno.bench({
    group,
    name: `byte loop, ${len} B into ${where}`,
    fn() {
      at = (at + step) & mask;
      if (at + len > dst.length) at = 0;
      byteLoop(dst, at, src, len);
    },
  });
  if (dst.buffer !== sharedData.buffer) return;
  Deno.bench({
    group,
    name: `word loop (Int32Array), ${len} B into ${where}`,
    fn() {
      at = (at + step) & mask;
      if (at + len > dst.length) at = 0;
      wordLoop(sharedData32, at, src32, len);
    },
  });
}

// The claim in src/ring.ts: a word loop beats set() and a byte loop.
copyCase("copy", sharedData, 100, "the shared ring");
copyCase("copy (32 B)", sharedData, 32, "the shared ring");
copyCase("copy (64 B)", sharedData, 64, "the shared ring");

// The typical record (seven bound ids, two call fields) and its bindings: the
// Encoder copies the pre-encoded bindings into its private scratch buffer with
// TypedArray.set (it used to be a byte loop).
const encoder = new Encoder();
const bound = encoder.encodePairs({ ...BINDINGS });
const record = new Encoder();
const recordLen = record.encode(1, 1795000000000, 9, 0, EVENT, bound.bytes, bound.count, {
  duration_ms: 12.5,
  status: "ok",
});
copyCase(`copy (${recordLen} B record)`, sharedData, recordLen, "the shared ring");

// Written out rather than through copyCase(), so these call sites only ever see
// private (non-shared) arrays and their feedback stays monomorphic.
const bindings = bound.bytes;
const bindingsGroup = `copy (${bindings.length} B bindings)`;
let bat = 0;
Deno.bench({
  group: bindingsGroup,
  name: `byte loop, ${bindings.length} B into a private buffer (Encoder.encode before)`,
  baseline: true,
  fn() {
    bat = (bat + 160) & 0x7fff;
    const p = bat;
    const bl = bindings.length;
    for (let i = 0; i < bl; i++) privateData[p + i] = bindings[i]!;
  },
});
Deno.bench({
  group: bindingsGroup,
  name: `TypedArray.set of the whole bindings array (Encoder.encode now)`,
  fn() {
    bat = (bat + 160) & 0x7fff;
    privateData.set(bindings, bat);
  },
});

// --- "ring write": RingProducer.write of the typical record ------------------

function producerCase(name: string, shared: boolean, baseline: boolean, full: boolean): void {
  const ring = createRingBuffer(CAPACITY, shared);
  const control = createControlBuffer(shared);
  const producer = new RingProducer(ring, control);
  const i32 = new Int32Array(ring, 0, HEADER_BYTES / 4);
  const buf = record.buf.slice(0, recordLen);
  Deno.bench({
    group: "ring write",
    name,
    baseline,
    fn() {
      if (!producer.write(buf, recordLen) && !full) {
        // Play the consumer: free everything (a few ns once per ~4,500 records).
        Atomics.store(i32, TAIL, Atomics.load(i32, HEAD));
        producer.write(buf, recordLen);
      }
      producer.wake();
    },
  });
}

producerCase(`write + wake, ${recordLen} B, SharedArrayBuffer`, true, true, false);
producerCase(
  `write + wake, ${recordLen} B, ArrayBuffer (inline mode)`,
  false,
  false,
  false,
);
producerCase(`ring full: write refused + count + wake`, true, false, true);
