import assert from "node:assert/strict";
import fc from "fast-check";
import {
  addLost,
  align4,
  ALIVE,
  BANK_HEADER_BYTES,
  CAPACITY_SLOT,
  capacityOf,
  CLOSED,
  CONTROL_BYTES,
  copySpan,
  createControlBuffer,
  createRingBuffer,
  DRAIN_CHUNK_BYTES,
  DROPPED,
  DURABLE,
  EMITTED,
  FLAG_BINDINGS,
  FLAG_CONSTANTS,
  FLAG_INTERNAL,
  FLAG_SHAPE,
  FLUSH_ACK,
  FLUSH_REQ,
  GENERATION,
  HEAD,
  HEADER_BYTES,
  INTERNAL,
  isRegistered,
  loadHead,
  loadStored,
  loadTail,
  LOST,
  MAGIC_SLOT,
  MIN_CAPACITY,
  MIRROR_SLOT,
  mirroredDefinitions,
  mirrorMissed,
  PERSISTED,
  PUBLISH_MAX_BYTES,
  PUBLISH_SHIFT,
  RECORD_FIXED_BYTES,
  REGISTERED,
  RESUME,
  RING_MAGIC,
  RING_VERSION,
  ringCapacity,
  RingConsumer,
  RingProducer,
  SLEEPING,
  STATE,
  STORED,
  TAIL,
  TAIL_NEXT,
  TAKEN,
  TAKEN_NEXT,
  VERSION_SLOT,
  WRAP,
} from "../../src/wire/ring.ts";
import { Encoder } from "../../src/wire/codec.ts";

Deno.test("ring layout constants are pinned", () => {
  // Changing any of these changes the shared-memory protocol: bump RING_VERSION
  // and docs/internals.md "Header slots".
  assert.deepEqual(
    {
      HEADER_BYTES,
      HEAD,
      TAIL,
      MAGIC_SLOT,
      VERSION_SLOT,
      CAPACITY_SLOT,
      CLOSED,
      EMITTED,
      DROPPED,
      PERSISTED,
      INTERNAL,
      LOST,
      REGISTERED,
      STORED,
      RING_MAGIC,
      RING_VERSION,
      WRAP,
      RECORD_FIXED_BYTES,
      FLAG_INTERNAL,
      FLAG_BINDINGS,
      FLAG_SHAPE,
      FLAG_CONSTANTS,
      MIN_CAPACITY,
      PUBLISH_SHIFT,
      PUBLISH_MAX_BYTES,
      SLEEPING,
      FLUSH_REQ,
      FLUSH_ACK,
      ALIVE,
      STATE,
      DURABLE,
      RESUME,
      GENERATION,
      CONTROL_BYTES,
    },
    {
      HEADER_BYTES: 192,
      HEAD: 0,
      TAIL: 16,
      MAGIC_SLOT: 32,
      VERSION_SLOT: 33,
      CAPACITY_SLOT: 34,
      CLOSED: 1,
      EMITTED: 1,
      DROPPED: 2,
      PERSISTED: 9,
      INTERNAL: 10,
      LOST: 11,
      REGISTERED: 24,
      STORED: 25,
      RING_MAGIC: 0x464c5247,
      RING_VERSION: 7,
      WRAP: 0xffffffff,
      RECORD_FIXED_BYTES: 24,
      FLAG_INTERNAL: 1,
      FLAG_BINDINGS: 2,
      FLAG_SHAPE: 4,
      FLAG_CONSTANTS: 8,
      MIN_CAPACITY: 4096,
      PUBLISH_SHIFT: 2,
      PUBLISH_MAX_BYTES: 1048576,
      SLEEPING: 0,
      FLUSH_REQ: 16,
      FLUSH_ACK: 17,
      ALIVE: 18,
      STATE: 19,
      DURABLE: 20,
      RESUME: 21,
      GENERATION: 22,
      CONTROL_BYTES: 128,
    },
  );
  // HEAD and TAIL sit on different 64-byte cache lines, SLEEPING alone on its own.
  assert.equal((HEAD * 4) >> 6, 0);
  assert.equal((TAIL * 4) >> 6, 1);
  assert.equal((EMITTED * 8) >> 6, 0, "producer counters on the producer's line");
  assert.equal((PERSISTED * 8) >> 6, 1, "consumer counters on the consumer's line");
  assert.equal((REGISTERED * 4) >> 6, 1, "REGISTERED on the consumer's line");
  assert.equal((STORED * 4) >> 6, 1, "STORED on the consumer's line");
  assert.ok(FLUSH_REQ * 4 >= 64);
  const buf = createRingBuffer(5000, true);
  const bytes = new Uint8Array(buf, 128, 12);
  // "GRLF" little-endian magic, version 7, capacity 8192 (5000 rounded up).
  assert.deepEqual([...bytes], [0x47, 0x52, 0x4c, 0x46, 7, 0, 0, 0, 0, 0x20, 0, 0]);
  assert.equal(buf.byteLength, 192 + 8192);
});

Deno.test("the header accessors read and write the byte offsets of the layout table", () => {
  const buf = createRingBuffer(8192, true);
  const dv = new DataView(buf);
  dv.setUint32(0, 0xfffffff0, true); // HEAD: unsigned, as it wraps
  dv.setUint32(64, 0xffffffe8, true); // TAIL
  dv.setUint32(100, 12, true); // STORED
  assert.deepEqual([loadHead(buf), loadTail(buf), loadStored(buf)], [0xfffffff0, 0xffffffe8, 12]);
  assert.equal(capacityOf(buf), 8192);
  assert.equal(isRegistered(buf), false);
  dv.setInt32(96, 1, true);
  assert.equal(isRegistered(buf), true);
  dv.setFloat64(88, 2, true);
  addLost(buf, 3); // LOST: a consumer's f64 at byte 88
  assert.equal(dv.getFloat64(88, true), 5);
  assert.equal(new RingProducer(buf, createControlBuffer(true)).counters().lost, 5);
});

Deno.test("copySpan() copies the bytes between two counters across the wrap, or null", () => {
  const buf = createRingBuffer(4096, false);
  const data = new Uint8Array(buf, HEADER_BYTES, 4096);
  for (let i = 0; i < 4096; i++) data[i] = i & 0xff;
  const span = copySpan(buf, 4096 * 3 + 4088, 4096 * 4 + 8)!;
  assert.deepEqual(
    { off: span.off, cap: span.cap, bytes: [...span.bytes] },
    {
      off: 4088,
      cap: 4096,
      bytes: [248, 249, 250, 251, 252, 253, 254, 255, 0, 1, 2, 3, 4, 5, 6, 7],
    },
  );
  assert.equal(copySpan(buf, 40, 40), null);
  assert.equal(copySpan(buf, 0, 4097), null, "longer than the ring: not this ring's counters");
});

Deno.test("RingConsumer marks the ring REGISTERED for an attached producer's flush", () => {
  const buf = createRingBuffer(4096, true);
  const i32 = new Int32Array(buf, 0, HEADER_BYTES / 4);
  assert.equal(Atomics.load(i32, REGISTERED), 0);
  new RingConsumer(buf);
  assert.equal(Atomics.load(i32, REGISTERED), 1);
});

Deno.test("RingConsumer.markStored() publishes the committed position next to TAIL", () => {
  const buf = createRingBuffer(4096, true);
  const i32 = new Int32Array(buf, 0, HEADER_BYTES / 4);
  const consumer = new RingConsumer(buf);
  Atomics.store(i32, TAIL, -8); // 0xFFFFFFF8: counters are unsigned and wrap
  assert.equal(consumer.tail(), 0xfffffff8);
  consumer.markStored(consumer.tail());
  assert.equal(Atomics.load(i32, STORED) >>> 0, 0xfffffff8);
});

Deno.test("ringCapacity() rounds up to a power of two of at least 4 KiB", () => {
  assert.equal(ringCapacity(1), 4096);
  assert.equal(ringCapacity(4096), 4096);
  assert.equal(ringCapacity(4097), 8192);
  assert.equal(ringCapacity(1 << 20), 1 << 20);
});

/** Builds a framed record of `total` bytes whose body is filled with `fill`. */
function record(total: number, fill: number): Uint8Array {
  const r = new Uint8Array(total);
  new DataView(r.buffer).setUint32(0, total - 4, true);
  r.fill(fill, 4);
  return r;
}

// Records become visible to the consumer when the producer publishes HEAD.
function drainAll(c: RingConsumer, p?: RingProducer): number[][] {
  p?.wake();
  const out: number[][] = [];
  c.drain((bytes, start, end) => out.push([...bytes.subarray(start, end)]));
  return out;
}

Deno.test("RingProducer.write() wraps records around the end without splitting them", () => {
  const buf = createRingBuffer(4096, true);
  const p = new RingProducer(buf, createControlBuffer(true));
  const c = new RingConsumer(buf);
  // 3 × 1500-byte records: the third cannot fit after 2 × 1500 = 3000 bytes
  // (1096 left), so it goes to offset 0 behind a WRAP marker once space returns.
  assert.ok(p.write(record(1500, 1), 1500));
  assert.ok(p.write(record(1500, 2), 1500));
  assert.ok(!p.write(record(1500, 3), 1500), "no room before the consumer frees space");
  assert.deepEqual(drainAll(c, p).map((r) => r[0]), [1, 2]);
  assert.equal(p.epoch, 1);
  assert.ok(p.write(record(1500, 3), 1500));
  assert.equal(p.epoch, 2, "the epoch advances when the ring wraps");
  assert.ok(p.write(record(1500, 4), 1500));
  assert.equal(p.epoch, 2);
  const got = drainAll(c, p);
  assert.deepEqual(got.map((r) => [r[0], r.length]), [[3, 1496], [4, 1496]]);
});

Deno.test("RingProducer.epoch advances once per lap, also when a record ends exactly at the end", () => {
  const buf = createRingBuffer(4096, true);
  const p = new RingProducer(buf, createControlBuffer(true));
  const c = new RingConsumer(buf);
  for (let lap = 0; lap < 3; lap++) {
    for (let i = 0; i < 4; i++) {
      assert.equal(p.epoch, lap + 1);
      assert.ok(p.write(record(1024, i), 1024));
      drainAll(c, p);
    }
  }
  assert.equal(p.epoch, 4);
});

Deno.test("RingProducer.write() refuses a record when full and accepts it once drained", () => {
  const buf = createRingBuffer(4096, true);
  const p = new RingProducer(buf, createControlBuffer(true));
  const c = new RingConsumer(buf);
  let written = 0;
  while (p.write(record(100, 7), 100)) written++;
  assert.equal(written, Math.floor(4096 / 100));
  assert.equal(p.used(), written * 100);
  assert.equal(drainAll(c, p).length, written);
  assert.equal(p.used(), 0);
  assert.ok(p.write(record(100, 7), 100));
});

Deno.test("ring delivers every record exactly once, in order, for any record sizes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 32, max: 1200 }), fc.boolean()), {
        minLength: 1,
        maxLength: 300,
      }),
      (ops) => {
        const buf = createRingBuffer(4096, true);
        const p = new RingProducer(buf, createControlBuffer(true));
        const c = new RingConsumer(buf);
        const sent: number[] = [];
        const got: number[] = [];
        let id = 0;
        for (const [size, drainNow] of ops) {
          const r = record(size, 0);
          id++;
          new DataView(r.buffer).setUint32(4, id, true);
          if (p.write(r, size)) sent.push(id);
          if (drainNow) {
            p.wake();
            c.drain((b, s) => got.push(new DataView(b.buffer, b.byteOffset).getUint32(s, true)));
          }
          assert.ok(p.used() <= p.capacity);
        }
        p.wake();
        c.drain((b, s) => got.push(new DataView(b.buffer, b.byteOffset).getUint32(s, true)));
        assert.deepEqual(got, sent);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("RingConsumer.drain() copies and frees at most DRAIN_CHUNK_BYTES at a time, across a wrap, every record once in order", () => {
  const cap = 4 * DRAIN_CHUNK_BYTES;
  const buf = createRingBuffer(cap, true);
  const p = new RingProducer(buf, createControlBuffer(true));
  const c = new RingConsumer(buf);
  const sent: number[] = [];
  let id = 0;
  const fill = (bytes: number): void => {
    for (let done = 0; done < bytes;) {
      const size = 200 + ((id * 7919) % 3000); // sizes that leave a WRAP marker at the end
      const r = record(size, 0);
      new DataView(r.buffer).setUint32(4, ++id, true);
      assert.ok(p.write(r, size));
      sent.push(id);
      done += align4(size);
    }
    p.wake();
  };
  const got: number[] = [];
  const steps: number[] = [];
  let copy = 0;
  const drainAndWatch = (): void => {
    let tail = loadTail(buf);
    c.drain((b, s) => {
      got.push(new DataView(b.buffer, b.byteOffset).getUint32(s, true));
      copy = Math.max(copy, b.buffer.byteLength);
      const now = loadTail(buf);
      if (now !== tail) steps.push((now - tail) >>> 0);
      tail = now;
    });
  };
  fill(3 * DRAIN_CHUNK_BYTES); // one drain, three chunks or more
  drainAndWatch();
  fill(3 * DRAIN_CHUNK_BYTES); // wraps the end of the ring
  drainAndWatch();
  assert.ok(p.epoch >= 2, "the ring wrapped");
  assert.deepEqual(got, sent);
  assert.equal(loadTail(buf), loadHead(buf));
  assert.ok(steps.length >= 6, `${steps.length} chunks`);
  for (const step of steps) assert.ok(step <= DRAIN_CHUNK_BYTES, `a chunk of ${step} bytes`);
  assert.ok(copy <= DRAIN_CHUNK_BYTES, `a private copy of ${copy} bytes`);
});

Deno.test("RingConsumer.drain() takes a record larger than DRAIN_CHUNK_BYTES whole", () => {
  const buf = createRingBuffer(4 * DRAIN_CHUNK_BYTES, true);
  const p = new RingProducer(buf, createControlBuffer(true));
  const c = new RingConsumer(buf);
  const sizes = [100, DRAIN_CHUNK_BYTES + 100, 100];
  sizes.forEach((size, i) => assert.ok(p.write(record(size, i + 1), size)));
  assert.deepEqual(
    drainAll(c, p).map((r) => [r[0], r.length + 4]),
    sizes.map((s, i) => [i + 1, s]),
  );
});

Deno.test("RingConsumer.drain() ends on a corrupt length word in a span over DRAIN_CHUNK_BYTES", () => {
  // A length that rounds up to 0 bytes (0xfffffffc) and one too short for a record.
  for (const bad of [0xfffffffc, 3]) {
    const buf = createRingBuffer(4 * DRAIN_CHUNK_BYTES, true);
    const p = new RingProducer(buf, createControlBuffer(true));
    const c = new RingConsumer(buf);
    for (let i = 0; i < 3000; i++) assert.ok(p.write(record(1000, 1), 1000));
    new DataView(buf, HEADER_BYTES).setUint32(1000 * 5, bad, true);
    p.wake();
    let n = 0;
    c.drain(() => n++);
    assert.equal(n, 5, "the records before the corrupt one");
    assert.equal(loadTail(buf), loadHead(buf));
  }
});

Deno.test("RingConsumer.prefault() touches the ring's pages from HEAD on, one lap once, and changes no byte", () => {
  const cap = 4 << 20;
  const buf = createRingBuffer(cap, true);
  const p = new RingProducer(buf, createControlBuffer(true));
  const c = new RingConsumer(buf);
  for (let i = 0; i < 100; i++) assert.ok(p.write(record(1000 + i, i + 1), 1000 + i));
  p.wake();
  const before = new Uint8Array(buf).slice();
  assert.equal(c.prefault(10), 10, "at most the pages asked for");
  assert.deepEqual(new Uint8Array(buf), before, "no byte changed");
  assert.deepEqual(drainAll(c).map((r) => r[0]), Array.from({ length: 100 }, (_, i) => i + 1));
  // The producer moves on meanwhile: the touching goes on from its HEAD, one lap in all.
  let touched = 10;
  for (let lap = 0; lap < 3 * (cap / 100_000); lap++) {
    for (let i = 0; i < 100; i++) assert.ok(p.write(record(1000, 7), 1000));
    drainAll(c, p);
    touched += c.prefault(64);
  }
  assert.ok(p.epoch >= 3, "the ring went round twice");
  assert.equal(touched, cap / 4096, "one lap of pages, each once");
  assert.equal(c.prefault(1e9), 0, "nothing after one lap");
  const fresh = createRingBuffer(cap, true);
  assert.equal(
    new RingConsumer(fresh).prefault(1e9),
    cap / 4096,
    "an idle ring: all of it at once",
  );
  const plain = createRingBuffer(cap, false);
  assert.equal(new RingConsumer(plain).prefault(1e9), 0, "a ring that is not shared is left alone");
});

Deno.test("RingProducer.wake() notifies only a sleeping consumer", () => {
  const buf = createRingBuffer(4096, true);
  const control = createControlBuffer(true);
  const p = new RingProducer(buf, control);
  const c32 = new Int32Array(control);
  p.wake();
  assert.equal(Atomics.load(c32, SLEEPING), 0);
  Atomics.store(c32, SLEEPING, 1);
  p.wake();
  assert.equal(Atomics.load(c32, SLEEPING), 0, "a sleeping consumer is woken once");
});

Deno.test("align4() rounds up to a multiple of 4", () => {
  assert.deepEqual([0, 1, 4, 5, 7, 8].map(align4), [0, 4, 4, 8, 8, 8]);
});

Deno.test("RingProducer.write() copies from a subarray's own offset", () => {
  const buf = createRingBuffer(4096, true);
  const p = new RingProducer(buf, createControlBuffer(true));
  const c = new RingConsumer(buf);
  const backing = new Uint8Array(256);
  backing.set(record(40, 1), 0);
  backing.set(record(40, 2), 64);
  assert.ok(p.write(backing.subarray(0, 40), 40));
  assert.ok(p.write(backing.subarray(64, 104), 40));
  assert.deepEqual(drainAll(c, p).map((r) => r[0]), [1, 2]);
});

Deno.test("RingProducer publishes HEAD once a quarter of the ring is unpublished, at the end of the task, or on wake()", async () => {
  const buf = createRingBuffer(1 << 16, true);
  const p = new RingProducer(buf, createControlBuffer(true));
  const c = new RingConsumer(buf);
  // 40-byte records: the quarter (16 KiB) is reached by the 410th.
  const quarter = Math.ceil((p.capacity >>> PUBLISH_SHIFT) / 40);
  for (let i = 0; i < quarter - 1; i++) p.write(record(40, 1), 40);
  assert.equal(c.pending(), false, "not yet published");
  p.write(record(40, 1), 40);
  assert.equal(drainAll(c).length, quarter, "published at a quarter of the ring");
  p.write(record(40, 2), 40);
  assert.equal(c.pending(), false);
  await Promise.resolve(); // the microtask queued by the first unpublished write
  await Promise.resolve();
  assert.equal(drainAll(c).length, 1, "published at the end of the task");
  p.write(record(40, 3), 40);
  p.wake();
  assert.equal(drainAll(c).length, 1, "published by wake()");
});

Deno.test("RingProducer of a large ring publishes HEAD once PUBLISH_MAX_BYTES are unpublished", () => {
  const buf = createRingBuffer(16 << 20, true);
  const p = new RingProducer(buf, createControlBuffer(true));
  const c = new RingConsumer(buf);
  assert.ok(PUBLISH_MAX_BYTES < p.capacity >>> PUBLISH_SHIFT, "less than a quarter here");
  const rec = record(1024, 1);
  const n = PUBLISH_MAX_BYTES / 1024;
  for (let i = 0; i < n - 1; i++) p.write(rec, 1024);
  assert.equal(c.pending(), false, "not yet published");
  p.write(rec, 1024);
  assert.equal(drainAll(c).length, n, "published at PUBLISH_MAX_BYTES");
});

Deno.test("definitions mirror layout constants are pinned", () => {
  // docs/internals.md "Definitions mirror": changing any of these changes the protocol.
  assert.deepEqual(
    { TAKEN, TAKEN_NEXT, TAIL_NEXT, MIRROR_SLOT, BANK_HEADER_BYTES },
    { TAKEN: 13, TAKEN_NEXT: 14, TAIL_NEXT: 30, MIRROR_SLOT: 35, BANK_HEADER_BYTES: 16 },
  );
  assert.equal((TAKEN * 8) >> 6, 1, "TAKEN on the consumer's line");
  assert.equal((TAKEN_NEXT * 8) >> 6, 1, "TAKEN_NEXT on the consumer's line");
  assert.equal((TAIL_NEXT * 4) >> 6, 1, "TAIL_NEXT on the consumer's line");
  assert.equal(MIRROR_SLOT * 4, 140, "next to CAPACITY, written by the creator");
  assert.equal(createRingBuffer(5000, true).byteLength, 192 + 8192);
  const buf = createRingBuffer(5000, true, true);
  // Two banks of capacity / 8 after the data area.
  assert.equal(buf.byteLength, 192 + 8192 + 2048);
  assert.equal(new Int32Array(buf, 0, 48)[MIRROR_SLOT], 2048);
  const producer = new RingProducer(buf, createControlBuffer(true));
  const def = new Encoder().encodeBindings({ flow_id: "f-1" }, 3);
  const len = new DataView(def.buffer).getUint32(0, true) + 4;
  new DataView(def.buffer).setUint32(4, 1, true); // stamped epoch 1
  producer.mirror(def, len, 1);
  // Epoch 1 lives in bank 1: epoch, length, missed, then the record as in the ring.
  const bank = new DataView(buf, 192 + 8192 + 1024, 1024);
  assert.deepEqual(
    [bank.getUint32(0, true), bank.getUint32(4, true), bank.getUint32(8, true)],
    [1, align4(len), 0],
  );
  assert.deepEqual(new Uint8Array(buf, 192 + 8192 + 1024 + 16, align4(len)), def);
});

function definition(id: number, epoch: number, pad = ""): { record: Uint8Array; len: number } {
  const record = new Encoder().encodeBindings({ flow_id: `f-${id}`, pad }, id);
  new DataView(record.buffer).setUint32(4, epoch, true);
  return { record, len: new DataView(record.buffer).getUint32(0, true) + 4 };
}

// The ids of the definitions in framed records laid end to end.
function idsOf(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.length; at = align4(at + 4 + dv.getUint32(at, true))) {
    ids.push(dv.getUint32(at + 20, true));
  }
  return ids.sort((a, b) => a - b);
}

Deno.test("RingProducer.mirror() keeps the last two epochs' definitions; mirroredDefinitions() reads both banks", () => {
  const buf = createRingBuffer(4096, true, true);
  const producer = new RingProducer(buf, createControlBuffer(true));
  for (const [id, epoch] of [[1, 1], [2, 1], [3, 2], [4, 3], [5, 3]] as const) {
    const d = definition(id, epoch);
    producer.mirror(d.record, d.len, epoch);
  }
  // Epoch 3 took bank 1 over from epoch 1; epoch 2 is still in bank 0.
  assert.deepEqual(idsOf(mirroredDefinitions(buf)), [3, 4, 5]);
  assert.equal(mirroredDefinitions(createRingBuffer(4096, true)).length, 0);
  // A ring without a mirror: nothing is written past the data area.
  const plain = createRingBuffer(4096, true);
  const d = definition(9, 1);
  new RingProducer(plain, createControlBuffer(true)).mirror(d.record, d.len, 1);
  assert.equal(plain.byteLength, 192 + 4096);
});

Deno.test("RingProducer.mirror() counts a definition that does not fit in its bank as missed", () => {
  const buf = createRingBuffer(4096, true, true); // banks of 512 bytes
  const producer = new RingProducer(buf, createControlBuffer(true));
  const small = definition(1, 1);
  const big = definition(2, 1, "x".repeat(600));
  producer.mirror(small.record, small.len, 1);
  producer.mirror(big.record, big.len, 1);
  assert.deepEqual(idsOf(mirroredDefinitions(buf)), [1]);
  assert.equal(mirrorMissed(buf, 1), 1);
  const next = definition(3, 3);
  producer.mirror(next.record, next.len, 3); // bank 1 begins epoch 3: missed starts over
  assert.equal(mirrorMissed(buf, 3), 0);
  assert.equal(mirrorMissed(buf, 1), 0);
});

Deno.test("RingConsumer.settleTaken() counts the user events a dead consumer took but never counted, wherever it stopped", () => {
  const buf = createRingBuffer(4096, true, true);
  const producer = new RingProducer(buf, createControlBuffer(true));
  const enc = new Encoder();
  const write = (n: number, flags = 0) => {
    for (let i = 0; i < n; i++) {
      assert.ok(producer.write(enc.buf, enc.encode(i + 1, 1, 9, flags, "e", { i })));
    }
    producer.wake();
  };
  const f64 = new Float64Array(buf, 0, 24);
  const i32 = new Int32Array(buf, 0, 48);
  write(5);
  write(1, FLAG_INTERNAL); // not a user event
  const dead = new RingConsumer(buf);
  assert.equal(dead.drain(() => {}), 6);
  assert.equal(f64[TAKEN], 5);
  dead.countPersisted(2, 0);
  // Stopped after a whole drain: 3 taken, never counted.
  assert.equal(new RingConsumer(buf).settleTaken(), 3);
  assert.equal(f64[LOST], 3);
  assert.equal(new RingConsumer(buf).settleTaken(), 0, "settled once");
  // Stopped between TAIL and TAKEN: TAIL = TAIL_NEXT, so TAKEN_NEXT counts.
  write(4);
  new RingConsumer(buf).drain(() => {});
  f64[TAKEN] = 5;
  assert.equal(new RingConsumer(buf).settleTaken(), 4);
  // Stopped before TAIL: TAIL_NEXT ahead of TAIL, so TAKEN_NEXT is not trusted.
  Atomics.store(i32, TAIL_NEXT, Atomics.load(i32, TAIL) + 64);
  f64[TAKEN_NEXT] = 1000;
  assert.equal(new RingConsumer(buf).settleTaken(), 0);
  assert.equal(f64[LOST], 7);
  // A ring without a mirror keeps no TAKEN: its owner counts (src/transport/worker_transport.ts).
  assert.equal(new RingConsumer(createRingBuffer(4096, true)).settleTaken(), 0);
});

Deno.test("mirroredDefinitions() never returns a torn bank while its producer re-uses it on another thread", async () => {
  const ring = createRingBuffer(4096, true, true) as SharedArrayBuffer; // banks of 512 bytes
  const control = createControlBuffer(true) as SharedArrayBuffer;
  const stop = new SharedArrayBuffer(4);
  const writer = new Worker(new URL("../support/mirror_writer.ts", import.meta.url), {
    type: "module",
  });
  try {
    const started = new Promise((resolve) => (writer.onmessage = resolve));
    writer.postMessage({ ring, control, stop });
    await started;
    let records = 0;
    for (let round = 0; round < 20_000; round++) {
      const bytes = mirroredDefinitions(ring);
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
      for (let at = 0; at < words.length; at += 16) {
        assert.equal(words[at], 60, `round ${round}: a record's length word`);
        const tag = words[at + 1]!;
        for (let w = 2; w < 16; w++) {
          assert.equal(words[at + w], tag, `round ${round}: torn record`);
        }
        records++;
      }
    }
    assert.ok(records > 0);
    const finished = new Promise<number>((resolve) => (writer.onmessage = (e) => resolve(e.data)));
    Atomics.store(new Int32Array(stop), 0, 1);
    assert.ok((await finished) > 2, "the writer went through epochs while it was read");
  } finally {
    writer.terminate();
  }
});
