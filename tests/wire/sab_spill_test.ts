import assert from "node:assert/strict";
import { Encoder } from "../../src/wire/codec.ts";
import {
  createControlBuffer,
  createRingBuffer,
  RingConsumer,
  RingProducer,
} from "../../src/wire/ring.ts";
import { type DefinitionRecord, skipStored, spillRing } from "../../src/wire/sab_spill.ts";
import { Consumer } from "../../src/worker/consumer.ts";
import { MemoryStore } from "../support/memory_store.ts";

// A producer with one child's bindings (id 7) and a consumer draining its ring.
function setup() {
  const ring = createRingBuffer(4096, true);
  const producer = new RingProducer(ring, createControlBuffer(true));
  const enc = new Encoder();
  const def = enc.encodeBindings({ flow_id: "f", run_id: "r" }, 7);
  const definition: DefinitionRecord = { record: def, length: new Uint32Array(def.buffer)[0]! + 4 };
  const stamp = (epoch: number) => (new Uint32Array(def.buffer)[1] = epoch);
  const define = () => {
    stamp(producer.epoch);
    assert.ok(producer.write(def, definition.length));
  };
  let seq = 0;
  const log = (i: number) => {
    const len = enc.encode(++seq, 1000 + seq, 9, 0, "e", { i }, 7);
    assert.ok(producer.write(enc.buf, len));
  };
  const logUnbound = (i: number) => {
    const len = enc.encode(++seq, 1000 + seq, 9, 0, "e", { i });
    assert.ok(producer.write(enc.buf, len));
  };
  const consumer = new RingConsumer(ring);
  /** The worker drains what is published and commits it. */
  const commit = () => {
    producer.wake();
    consumer.drain(() => {});
    consumer.markStored(consumer.tail());
  };
  return { ring, producer, definition, define, log, logUnbound, consumer, commit };
}

// Decodes a spilled batch the way the next worker does.
function ingest(bytes: Uint8Array): { seq: number; i: unknown; flow: unknown }[] {
  const store = new MemoryStore();
  new Consumer(store, createControlBuffer(false)).ingest("p.0", bytes, 0, 0);
  return store.events.map((e) => ({ seq: e.seq, i: e.fields.i, flow: e.fields.flow_id }));
}

Deno.test("spillRing() copies the records after STORED and the definitions they need", () => {
  const s = setup();
  s.define();
  for (let i = 0; i < 5; i++) s.log(i);
  s.commit(); // the worker drained the definition and events 0..4 and committed them
  for (let i = 5; i < 40; i++) s.log(i); // drained or not, not committed
  s.producer.wake();
  s.consumer.drain(() => {});
  for (let i = 40; i < 45; i++) s.log(i); // not even published
  const batch = spillRing(s.ring, s.producer.head(), (id) => id === 7 ? s.definition : undefined);
  assert.ok(batch !== null);
  assert.equal(batch.records, 40);
  assert.equal(batch.missing, 0);
  const events = ingest(batch.bytes);
  assert.deepEqual(events.map((e) => e.i), Array.from({ length: 40 }, (_, k) => k + 5));
  assert.ok(events.every((e) => e.flow === "f"), "the bindings came with the spill");
});

Deno.test("spillRing() walks records across the end of the ring", () => {
  const s = setup();
  let next = 0;
  // Laps of the ring: each lap is drained and committed, the last one only in part.
  for (let lap = 0; lap < 5; lap++) {
    s.define();
    for (let k = 0; k < 60; k++) s.log(next++);
    s.commit();
  }
  const from = next;
  s.define();
  for (let k = 0; k < 90; k++) s.log(next++);
  assert.ok(s.producer.epoch > 1, "the ring wrapped");
  const batch = spillRing(s.ring, s.producer.head(), () => s.definition);
  assert.ok(batch !== null);
  assert.deepEqual(
    ingest(batch.bytes).map((e) => e.i),
    Array.from({ length: 90 }, (_, k) => from + k),
  );
});

Deno.test("spillRing() returns null when the worker committed everything", () => {
  const s = setup();
  s.define();
  s.log(0);
  s.commit();
  assert.equal(spillRing(s.ring, s.producer.head(), () => s.definition), null);
});

Deno.test("spillRing() leaves out, and counts, an event whose definition is unknown", () => {
  const s = setup();
  s.define();
  s.log(0);
  s.commit();
  s.log(1);
  s.logUnbound(2);
  const batch = spillRing(s.ring, s.producer.head(), () => undefined)!;
  assert.deepEqual([batch.records, batch.missing], [1, 1]);
  assert.deepEqual(ingest(batch.bytes), [{ seq: 3, i: 2, flow: undefined }]);
});

Deno.test("skipStored() drops the events the old worker committed, keeps definitions", () => {
  const s = setup();
  s.define();
  for (let i = 0; i < 10; i++) s.log(i); // seq 1..10
  const batch = spillRing(s.ring, s.producer.head(), () => s.definition)!;
  assert.deepEqual(ingest(skipStored(batch.bytes, 6)).map((e) => e.seq), [7, 8, 9, 10]);
  assert.equal(skipStored(batch.bytes, 0), batch.bytes);
  assert.deepEqual(ingest(skipStored(batch.bytes, 10)), []);
});

Deno.test("spillRing() inserts the shape an event refers to, as it does bindings", () => {
  const s = setup();
  const enc = new Encoder();
  enc.shapes = true;
  enc.epoch = s.producer.epoch;
  let seq = 100;
  const log = (i: number) => {
    const len = enc.encode(++seq, 1000 + seq, 9, 0, "step", { i, status: "ok" }, 7);
    assert.ok(s.producer.write(enc.buf, len));
  };
  s.define();
  log(0); // written in full; its shape (id 9) follows
  const shape = enc.pending!;
  enc.pending = null;
  const record = enc.encodeShape(shape, 9);
  const shapeDefinition: DefinitionRecord = {
    record,
    length: new Uint32Array(record.buffer)[0]! + 4,
  };
  new Uint32Array(record.buffer)[1] = s.producer.epoch;
  assert.ok(s.producer.write(record, shapeDefinition.length));
  shape.definition = { id: 9, epoch: s.producer.epoch };
  log(1);
  s.commit(); // the definitions are behind STORED now
  for (let i = 2; i < 6; i++) log(i);
  const definitions = (id: number) =>
    id === 7 ? s.definition : id === 9 ? shapeDefinition : undefined;
  const batch = spillRing(s.ring, s.producer.head(), definitions)!;
  assert.equal(batch.records, 4);
  assert.equal(batch.missing, 0);
  assert.deepEqual(ingest(batch.bytes), [2, 3, 4, 5].map((i) => ({ seq: 101 + i, i, flow: "f" })));
  // Without the shape's definition its events are left out: nothing to spill.
  const without = spillRing(s.ring, s.producer.head(), (id) => id === 7 ? s.definition : undefined);
  assert.equal(without, null);
});
