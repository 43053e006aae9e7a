import assert from "node:assert/strict";
import { Consumer } from "../../src/worker/consumer.ts";
import {
  ALIVE,
  createControlBuffer,
  createRingBuffer,
  FLUSH_ACK,
  FLUSH_REQ,
  GENERATION,
  RingProducer,
  SLEEPING,
} from "../../src/wire/ring.ts";
import { Encoder } from "../../src/wire/codec.ts";
import { MemoryStore } from "../support/memory_store.ts";
import { ringWriter } from "../support/ring_writer.ts";
import { shapedWriter } from "../support/shaped_records.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";

function setup() {
  const writer = ringWriter();
  const { control, ring, producer } = writer;
  const store = new MemoryStore();
  const consumer = new Consumer(store, control);
  consumer.addRing("p.0", ring);
  const log = (event: string, fields: Record<string, unknown> = {}) => {
    const ok = writer.log(event, fields);
    producer.wake(); // publish HEAD now, as a flush would
    return ok;
  };
  return { control, store, consumer, producer, log };
}

Deno.test("Consumer.drain() decodes every ring record into the store and counts them", () => {
  const { store, consumer, producer, log } = setup();
  for (let i = 0; i < 10; i++) log("e", { i });
  assert.equal(consumer.drain(), 10);
  assert.deepEqual(store.events.map((e) => e.fields.i), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(store.events.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(producer.counters().persisted, 10);
  assert.equal(consumer.drain(), 0);
});

Deno.test("Consumer.drain() counts events the store refused as lost, and flush() reports it", () => {
  const { store, consumer, producer, log } = setup();
  store.failWrites = new Error("ENOSPC: no space left on device");
  log("a");
  log("b");
  consumer.drain();
  const c = producer.counters();
  assert.equal(c.emitted, 2);
  assert.equal(c.persisted, 0);
  assert.equal(c.lost, 2);
  assert.throws(() => consumer.flush(false), /Store write failed, events were dropped: ENOSPC/);
  store.failWrites = null;
  log("c");
  consumer.flush(true);
  assert.equal(store.syncs, 1);
  assert.equal(producer.counters().persisted, 1);
});

Deno.test("Consumer.serviceFlushRequests() drains and acknowledges a synchronous flush", () => {
  const { control, store, consumer, log } = setup();
  const c32 = new Int32Array(control);
  log("a");
  Atomics.add(c32, FLUSH_REQ, 1);
  consumer.serviceFlushRequests();
  assert.equal(Atomics.load(c32, FLUSH_ACK), 1);
  assert.equal(store.events.length, 1);
});

Deno.test("Consumer.sleep() returns at once when data is pending, and a write wakes it", async () => {
  const { control, consumer, producer, log } = setup();
  const c32 = new Int32Array(control);
  log("a");
  await consumer.sleep(10_000); // pending data: must not wait
  consumer.drain();
  // Deno does not count a pending Atomics.waitAsync as work (the worker's open
  // port does that in production), so a timer keeps this test's loop alive.
  const keepAlive = setTimeout(() => {}, 10_000);
  const slept = consumer.sleep(10_000);
  assert.equal(Atomics.load(c32, SLEEPING), 1);
  log("b");
  producer.wake();
  await slept; // resolves because of the wake, long before 10 s
  clearTimeout(keepAlive);
  assert.equal(Atomics.load(c32, SLEEPING), 0);
  consumer.close();
});

Deno.test("Consumer.retired(): a replaced consumer takes, counts and acknowledges nothing more", async () => {
  const control = createControlBuffer(true);
  const c = new Int32Array(control);
  Atomics.store(c, GENERATION, 1);
  const ring = createRingBuffer(4096, true);
  const store = new MemoryStore();
  const old = new Consumer(store, control, 1);
  old.addRing("p.0", ring);
  const producer = new RingProducer(ring, control);
  const enc = new Encoder();
  const write = (seq: number) => {
    assert.ok(producer.write(enc.buf, enc.encode(seq, seq, 9, 0, "e", { seq })));
    producer.publish(seq, 0);
    producer.wake();
  };
  write(1);
  assert.equal(old.drain(), 1);
  assert.equal(old.retired(), false);
  // The front end starts generation 2: the old consumer must leave the ring to it.
  Atomics.store(c, GENERATION, 2);
  write(2);
  assert.equal(old.retired(), true);
  assert.equal(old.drain(), 0);
  Atomics.add(c, FLUSH_REQ, 1);
  old.serviceFlushRequests();
  assert.equal(Atomics.load(c, FLUSH_ACK), 0);
  const alive = Atomics.load(c, ALIVE);
  await old.sleep(0);
  await old.run(0); // returns at once
  assert.equal(Atomics.load(c, ALIVE), alive);
  assert.equal(producer.counters().persisted, 1);
  // Its successor takes the record the old one left.
  const next = new Consumer(store, control, 2);
  next.addRing("p.0", ring);
  next.serviceFlushRequests();
  assert.equal(Atomics.load(c, FLUSH_ACK), 1);
  assert.deepEqual(store.events.map((e) => e.seq), [1, 2]);
  assert.equal(producer.counters().persisted, 2);
});

Deno.test("Consumer.ingest() takes postMessage batches laid end to end", () => {
  const store = new MemoryStore();
  const consumer = new Consumer(store, createControlBuffer(false));
  const enc = new Encoder();
  const parts: Uint8Array[] = [];
  for (let i = 1; i <= 3; i++) {
    const len = enc.encode(i, i, 9, 0, "e", { i });
    const padded = new Uint8Array((len + 3) & ~3);
    padded.set(enc.buf.subarray(0, len));
    parts.push(padded);
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  const ack = consumer.ingest("m.0", bytes, 3, 0);
  assert.deepEqual(ack, { persisted: 3, internal: 0, lost: 0 });
  assert.deepEqual(store.events.map((e) => [e.producer, e.fields.i]), [["m.0", 1], ["m.0", 2], [
    "m.0",
    3,
  ]]);
});

Deno.test("Consumer.prefault() touches the pages ahead of each producer a few at a time, then reports nothing left", () => {
  const { control, ring } = ringWriter({ ringBytes: 1 << 20 });
  const consumer = new Consumer(new MemoryStore(), control);
  consumer.addRing("p.0", ring);
  let steps = 0;
  while (consumer.prefault()) steps++;
  // 1 MiB of 4 KiB pages, 64 a step: a step stays short enough for RPCs to get their turn.
  assert.equal(steps, 4);
  assert.equal(consumer.prefault(), false);
});

Deno.test("Consumer packs records straight to payloads when nothing observes them, and stores what decoding stores", async () => {
  const w = shapedWriter();
  const bindings = { flow_id: "f-2", run_id: "r-1" };
  for (let i = 0; i < 3000; i++) {
    w.write({ event: "step_end", fields: { flow_id: "f-1", step_id: "step-" + i, ms: i + 0.5 } });
    if (i % 3 === 0) w.write({ event: "tick", fields: { i, big: 10n ** 20n }, bindings });
    if (i % 7 === 0) {
      w.write({ event: "odd", fields: { flow_id: "f-1", neg: -0, "__proto__": [i] } });
    }
  }
  const { bytes, records } = w.take();
  const events = records.filter((r) => !r.definition).length;
  const stored = await Promise.all([false, true].map((observed) =>
    withTempDir((dir) => {
      const store = SegmentStore.open(dir);
      let packed = 0;
      const appendPayloads = store.appendPayloads.bind(store);
      store.appendPayloads = (payloads) => {
        packed += payloads.length;
        appendPayloads(payloads);
      };
      const consumer = new Consumer(store, createControlBuffer(false));
      let seen = 0;
      if (observed) consumer.addObserver((batch) => seen += batch.length);
      assert.deepEqual(consumer.ingest("p.0", bytes, events, 0), {
        persisted: events,
        internal: 0,
        lost: 0,
      });
      const back = store.readAfter(0, 1e9).flatMap((r) => r.events);
      const flows = store.listFlowPage(undefined).flows;
      consumer.close();
      assert.equal(seen, observed ? events : 0);
      assert.equal(packed > 0, !observed, "payloads packed only when nothing observes");
      return { back, flows };
    })
  ));
  assert.equal(stored[0]!.back.length, events);
  assert.deepStrictEqual(stored[0], stored[1]);
});
