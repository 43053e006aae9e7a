import assert from "node:assert/strict";
import { eventsLostInCrash, RestartBudget } from "../../src/transport/supervisor.ts";
import { Consumer } from "../../src/worker/consumer.ts";
import {
  createControlBuffer,
  createRingBuffer,
  FLAG_SHAPE,
  pendingEvents,
  RingConsumer,
  RingProducer,
  walkRecords,
} from "../../src/wire/ring.ts";
import { Decoder, Encoder } from "../../src/wire/codec.ts";
import { createLogger } from "../../src/front/logger.ts";
import { withTransportSeams } from "../../src/transport/_testing.ts";
import type { Transport } from "../../src/transport/types.ts";
import { MemoryStore } from "../support/memory_store.ts";

// A producer writing one child's definition, then events that refer to it.
function ringWithChild() {
  const control = createControlBuffer(true);
  const ring = createRingBuffer(4096, true);
  const producer = new RingProducer(ring, control);
  const enc = new Encoder();
  const def = enc.encodeBindings({ flow_id: "f-1", run_id: "r-1" }, 7);
  const defLen = new DataView(def.buffer).getUint32(0, true) + 4;
  new DataView(def.buffer).setUint32(4, producer.epoch, true);
  assert.ok(producer.write(def, defLen));
  let seq = 0;
  const log = (n: number) => {
    for (let i = 0; i < n; i++) {
      const len = enc.encode(++seq, 1000 + seq, 9, 0, "step", { i: seq }, 7);
      assert.ok(producer.write(enc.buf, len));
    }
    producer.publish(seq, 0);
    producer.wake();
  };
  return { control, ring, producer, def, log };
}

Deno.test("Consumer.addRing() with handed-over definitions keeps the bindings of events a dead worker left in the ring", () => {
  const { control, ring, def, log } = ringWithChild();
  const dead = new Consumer(new MemoryStore(), control);
  dead.addRing("p.0", ring);
  log(3);
  dead.drain(); // took the definition and three events
  log(4); // still in the ring when the worker dies
  assert.equal(pendingEvents(ring), 4);
  const store = new MemoryStore();
  const next = new Consumer(store, control);
  next.addRing("p.0", ring, { bindings: def });
  assert.equal(next.drain(), 4);
  assert.deepEqual(store.events.map((e) => [e.seq, e.fields.flow_id, e.fields.run_id]), [
    [4, "f-1", "r-1"],
    [5, "f-1", "r-1"],
    [6, "f-1", "r-1"],
    [7, "f-1", "r-1"],
  ]);
  assert.equal(next.stats().decode_errors, 0);
});

Deno.test("Consumer.addRing() after a restart without the definitions keeps the events and marks them bindings_lost", () => {
  const { control, ring, log } = ringWithChild();
  const dead = new Consumer(new MemoryStore(), control);
  dead.addRing("p.0", ring);
  log(1);
  dead.drain();
  log(2);
  // Without the restart flag such an event is a decode error...
  const strictStore = new MemoryStore();
  const strict = new Consumer(strictStore, createControlBuffer(true));
  const copy = ring.slice(0);
  strict.addRing("p.0", copy);
  strict.drain();
  assert.equal(strict.stats().decode_errors, 2);
  // ...after a restart it is kept, and says what is missing.
  const store = new MemoryStore();
  const next = new Consumer(store, control);
  next.addRing("p.0", ring, {});
  next.drain();
  assert.deepEqual(store.events.map((e) => [e.seq, e.fields.bindings_lost, e.fields.i]), [
    [2, true, 2],
    [3, true, 3],
  ]);
});

Deno.test("Transport.bindingsSource(), the front end's handover, returns the current and previous epoch's definitions and makes children define again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog_supervisor_" });
  let transport: Transport | null = null;
  const log = withTransportSeams(
    { opened: (t) => (transport = t) },
    () => createLogger({ dir, transport: "inline", exitHooks: false }),
  );
  try {
    const { producer, bindingsSource: handOver } = transport!;
    const a = log.child({ flow_id: "a" });
    const b = log.child({ flow_id: "b" });
    a.info("x");
    b.info("x");
    const used = producer.used();
    const defs = handOver!();
    const decoder = new Decoder();
    let n = 0;
    walkRecords(defs, defs.length, 0, 0x40000000, (bytes, start, end) => {
      decoder.define(bytes, start, end, true);
      n++;
    });
    assert.equal(n, 2);
    assert.equal(decoder.definitions, 2);
    // The next event of a child writes its definition again (more than an event's bytes).
    a.info("x");
    const oneEvent = producer.used() - used;
    a.info("x");
    assert.ok(oneEvent > producer.used() - used - oneEvent);
    assert.equal(handOver!().length, defs.length / 2);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Transport.bindingsSource() hands over shapes with bindings, and a shape is defined again after it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog_supervisor_" });
  let transport: Transport | null = null;
  const log = withTransportSeams(
    { opened: (t) => (transport = t) },
    () => createLogger({ dir, transport: "inline", exitHooks: false }),
  );
  try {
    const { producer, bindingsSource: handOver } = transport!;
    const a = log.child({ flow_id: "a" });
    const step = (i: number) => a.info("step_end", { step_id: "step-" + i, status: "ok" });
    step(0); // written in full; the shape's definition follows
    let used = producer.used();
    step(1);
    const shaped = producer.used() - used;
    const defs = handOver!();
    const decoder = new Decoder();
    const kinds: string[] = [];
    walkRecords(defs, defs.length, 0, 0x40000000, (bytes, start, end) => {
      decoder.define(bytes, start, end, true);
      kinds.push((bytes[start + 13]! & FLAG_SHAPE) !== 0 ? "shape" : "bindings");
    });
    assert.deepEqual(kinds.sort(), ["bindings", "shape"]);
    // After the hand-over the next call is written in full, with both definitions again.
    used = producer.used();
    step(2);
    assert.ok(producer.used() - used > 3 * shaped);
    used = producer.used();
    step(3);
    assert.equal(producer.used() - used, shaped);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RestartBudget.take() allows maxRestarts per window, then refuses", () => {
  let now = 0;
  const budget = new RestartBudget({ maxRestarts: 2, windowMs: 1000, clock: () => now });
  assert.equal(budget.take(), true);
  assert.equal(budget.take(), true);
  assert.equal(budget.take(), false);
  now = 1000;
  assert.equal(budget.take(), true);
  assert.equal(budget.restarts, 3);
});

Deno.test("eventsLostInCrash() counts what a dead consumer took but did not store", () => {
  const { ring, log } = ringWithChild();
  log(5); // still in the ring
  const counters = { emitted: 12, dropped: 1, persisted: 4, internal: 0, lost: 0 };
  assert.equal(eventsLostInCrash(ring, counters), 2);
  assert.equal(eventsLostInCrash(ring, { ...counters, persisted: 6 }), 0);
});

Deno.test("Consumer.addRing() of a restarted attached ring adopts its mirrored definitions and counts what the dead consumer took", () => {
  const control = createControlBuffer(true);
  const ring = createRingBuffer(4096, true, true); // an attached producer's ring
  const producer = new RingProducer(ring, control);
  const enc = new Encoder();
  const def = enc.encodeBindings({ flow_id: "f-1", run_id: "r-1" }, 7);
  const defLen = new DataView(def.buffer).getUint32(0, true) + 4;
  new DataView(def.buffer).setUint32(4, producer.epoch, true);
  producer.mirror(def, defLen, producer.epoch);
  assert.ok(producer.write(def, defLen));
  let seq = 0;
  const log = (n: number) => {
    for (let i = 0; i < n; i++) {
      assert.ok(producer.write(enc.buf, enc.encode(++seq, 1000 + seq, 9, 0, "step", {}, 7)));
    }
    producer.wake();
  };
  log(3);
  const dead = new Consumer(new MemoryStore(), control);
  dead.addRing("p.1", ring);
  dead.drain(); // took the definition, stored three events
  log(2);
  new RingConsumer(ring).drain(() => {}); // took two more and died before storing them
  log(4); // still in the ring
  const store = new MemoryStore();
  const next = new Consumer(store, control);
  next.addRing("p.1", ring, {}); // nothing handed over: the producer is on another thread
  assert.equal(next.drain(), 4);
  assert.deepEqual(store.events.map((e) => [e.seq, e.fields.flow_id, e.fields.bindings_lost]), [
    [6, "f-1", undefined],
    [7, "f-1", undefined],
    [8, "f-1", undefined],
    [9, "f-1", undefined],
  ]);
  assert.equal(next.stats().producers[0]!.lost, 2);
  const c = new RingConsumer(ring).counters();
  assert.deepEqual([c.persisted, c.lost], [7, 2]);
});
