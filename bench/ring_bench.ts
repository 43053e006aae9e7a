/**
 * The producer side of the shared-memory ring (`src/wire/ring.ts`): the copy of an
 * encoded record into the ring (group `"copy"`, cited by `src/wire/ring.ts`) and
 * the whole `RingProducer.write()` of a typical
 * record (group `"ring write"`, cited by `src/wire/ring.ts`), alone and with a
 * consumer draining on the other core.
 *
 * Run with `deno task bench` (or `deno bench bench/ring_bench.ts`).
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import {
  align4,
  CAPACITY_SLOT,
  createRingBuffer,
  HEAD,
  HEADER_BYTES,
  TAIL,
} from "../src/wire/ring.ts";
import { Encoder } from "../src/wire/codec.ts";
import { benchRing, EVENT } from "./_workload.ts";

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

// The claim in src/wire/ring.ts: a word loop beats set() and a byte loop.
copyCase("copy", sharedData, 100, "the shared ring");
copyCase("copy (32 B)", sharedData, 32, "the shared ring");
copyCase("copy (64 B)", sharedData, 64, "the shared ring");

// The typical record: seven ids bound by a child logger (by id, see
// docs/internals.md "Bindings by reference") and two call fields.
const record = new Encoder();
const recordLen = record.encode(1, 1795000000000, 9, 0, EVENT, {
  duration_ms: 12.5,
  status: "ok",
}, 1);
copyCase(`copy (${recordLen} B record)`, sharedData, recordLen, "the shared ring");

// --- "ring write": RingProducer.write of the typical record ------------------

// As Core.write drives the ring: write, publish the counters every 256 events,
// then wake (one atomic load while the consumer is awake).
function producerCase(name: string, shared: boolean, baseline: boolean, full: boolean): void {
  const { producer, free } = benchRing(CAPACITY, shared);
  const buf = record.buf.slice(0, align4(recordLen));
  let emitted = 0;
  let dropped = 0;
  Deno.bench({
    group: "ring write",
    name,
    baseline,
    fn() {
      emitted++;
      if (producer.write(buf, recordLen)) {
        if ((emitted & 255) === 0) producer.publish(emitted, dropped);
        producer.wake();
      } else if (full) {
        // Core.write's drop path publishes on every drop.
        producer.publish(emitted, ++dropped);
      } else {
        // Play the consumer: free everything (a few ns once per ~4,400 records).
        free();
        producer.write(buf, recordLen);
        producer.wake();
      }
    },
  });
}

producerCase(`write + publish/256 + wake, ${recordLen} B, SharedArrayBuffer`, true, true, false);
producerCase(`same, ArrayBuffer (inline mode)`, false, false, false);
producerCase(`ring full: write refused + publish`, true, false, true);

// With a consumer draining the ring on the other core (the real RingConsumer in
// a worker thread), TAIL's cache line is written by that core all the time.
// RingProducer.write keeps a stale TAIL and re-reads it only when short of
// room; the variant below re-reads it on every write, as the ring did before.
// Started before any benchmark runs (top-level await), so the threads' start-up
// does not disturb the first groups; idle, they nap.
async function startDrainer(ring: SharedArrayBuffer | ArrayBuffer): Promise<void> {
  const worker = new Worker(new URL("./_ring_drainer.ts", import.meta.url), { workerData: ring });
  worker.unref();
  await new Promise((resolve) => worker.once("message", resolve));
}

class FreshTailProducer {
  readonly #i32: Int32Array;
  readonly #data32: Int32Array;
  readonly #cap: number;
  #head = 0;
  constructor(ring: SharedArrayBuffer | ArrayBuffer) {
    this.#i32 = new Int32Array(ring, 0, HEADER_BYTES / 4);
    this.#cap = this.#i32[CAPACITY_SLOT]!;
    this.#data32 = new Int32Array(ring, HEADER_BYTES, this.#cap / 4);
  }
  // RingProducer.write, except for the Atomics.load of TAIL on every call.
  write(s32: Int32Array, len: number): boolean {
    const cap = this.#cap;
    const need = align4(len);
    const head = this.#head;
    const off = head & (cap - 1);
    const toEnd = cap - off;
    const advance = need > toEnd ? toEnd + need : need;
    const tail = Atomics.load(this.#i32, TAIL) >>> 0;
    if (advance > cap - ((head - tail) >>> 0)) return false;
    const d32 = this.#data32;
    let at = off >> 2;
    if (need > toEnd) {
      d32[at] = -1;
      at = 0;
    }
    const words = need >> 2;
    for (let i = 0; i < words; i++) d32[at + i] = s32[i]!;
    this.#head = (head + advance) >>> 0;
    Atomics.store(this.#i32, HEAD, this.#head | 0);
    return true;
  }
}

{
  const { buffer, producer } = benchRing(CAPACITY);
  const buf = record.buf.slice(0, align4(recordLen));
  await startDrainer(buffer);
  Deno.bench({
    group: "ring write",
    name: `write + wake, consumer draining on the other core (stale TAIL, as RingProducer)`,
    fn() {
      // A full ring means the consumer lags: retry, as "block" would.
      while (!producer.write(buf, recordLen));
      producer.wake();
    },
  });
}

{
  const ring = createRingBuffer(CAPACITY, true);
  const producer = new FreshTailProducer(ring);
  // wake() on a ring of its own, so this variant pays what the one above pays.
  const control = benchRing(CAPACITY).producer;
  const buf32 = new Int32Array(record.buf.slice(0, align4(recordLen)).buffer);
  await startDrainer(ring);
  Deno.bench({
    group: "ring write",
    name: `write + wake, consumer draining on the other core (TAIL re-read every write)`,
    fn() {
      while (!producer.write(buf32, recordLen));
      control.wake();
    },
  });
}
