import assert from "node:assert/strict";
import { BatchProducer } from "../../src/transport/batch_producer.ts";
import { Encoder } from "../../src/wire/codec.ts";
import { FLAG_INTERNAL } from "../../src/wire/ring.ts";

// A send to a worker that dies with the batch, after the batch's bytes were
// transferred to it (so they are detached here).
function dyingSend(bytes: Uint8Array): Promise<never> {
  structuredClone(bytes.buffer, { transfer: [bytes.buffer as ArrayBuffer] });
  return Promise.reject(new Error("The flightlog worker exited unexpectedly"));
}

Deno.test("BatchProducer.post() counts the user events of a batch its worker died with as lost, though the bytes were transferred", async () => {
  const producer = new BatchProducer(4096, 10, dyingSend, Deno.unrefTimer);
  const enc = new Encoder();
  for (let i = 1; i <= 3; i++) assert.ok(producer.write(enc.buf, enc.encode(i, 1, 9, 0, "e", {})));
  assert.ok(producer.write(enc.buf, enc.encode(0, 1, 13, FLAG_INTERNAL, "log.dropped", {})));
  producer.publish(3, 0);
  await assert.rejects(producer.post(), /exited unexpectedly/);
  producer.dispose();
  assert.deepEqual(producer.counters(), {
    emitted: 3,
    dropped: 0,
    persisted: 0,
    internal: 0,
    lost: 3,
  });
  assert.equal(producer.used(), 0);
});

Deno.test("BatchProducer holds at most its capacity, posted or not, while its worker is dead", async () => {
  const producer = new BatchProducer(4096, 10, dyingSend, Deno.unrefTimer);
  const enc = new Encoder();
  let written = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 1000; i++) {
      if (producer.write(enc.buf, enc.encode(i + 1, 1, 9, 0, "e", { pad: "x".repeat(40) }))) {
        written++;
      }
      assert.ok(producer.used() <= producer.capacity);
    }
    await producer.post().catch(() => {});
  }
  producer.dispose();
  // Every round filled the batch once, lost it with the worker, and refused the rest.
  assert.equal(producer.counters().lost, written);
  assert.ok(written < 5 * 1000 / 10);
});

Deno.test("BatchProducer keeps a posted batch for the unload spill until the worker acknowledges it", async () => {
  let ack!: () => void;
  const send = (bytes: Uint8Array) =>
    new Promise<{ persisted: number; internal: number; lost: number }>((resolve) => {
      ack = () => resolve({ persisted: bytes.length > 0 ? 2 : 0, internal: 0, lost: 0 });
    });
  const producer = new BatchProducer(4096, 10, send, Deno.unrefTimer);
  const enc = new Encoder();
  const record = (seq: number) => enc.buf.slice(0, enc.encode(seq, 1, 9, 0, "e", { seq }));
  const first = record(1);
  const second = record(2);
  assert.ok(producer.write(first, first.length));
  const posting = producer.post(); // in flight: not acknowledged yet
  assert.ok(producer.write(second, second.length));
  producer.publish(2, 0);
  const pad = (n: number) => (n + 3) & ~3;
  // beforeunload: a copy of both, the unposted one left in place.
  const copy = producer.forSpill(false)!;
  assert.equal(copy.bytes.length, pad(first.length) + pad(second.length));
  assert.deepEqual(copy.bytes.subarray(0, first.length), first);
  assert.equal(producer.used(), copy.bytes.length);
  const before = producer.position();
  // pagehide: the unposted one taken, so no flush posts it again.
  const taken = producer.forSpill(true)!;
  assert.deepEqual(taken.bytes, copy.bytes);
  assert.deepEqual(taken.unposted!.subarray(0, second.length), second);
  assert.notEqual(producer.position(), before);
  ack();
  await posting;
  assert.equal(producer.forSpill(true), null, "acknowledged: the worker's, not the spill's");
  assert.equal(producer.counters().persisted, 2);
  producer.dispose();
});
