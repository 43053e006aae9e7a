import assert from "node:assert/strict";
import {
  DEFAULT_HUNG_AFTER_MS,
  ringSample,
  Watchdog,
  type WorkSample,
} from "../../src/transport/watchdog.ts";
import {
  ALIVE,
  createControlBuffer,
  createRingBuffer,
  FLUSH_ACK,
  FLUSH_REQ,
  loadHead,
  loadTail,
  RingConsumer,
  RingProducer,
} from "../../src/wire/ring.ts";

/** A watchdog on a scripted sample and a fake clock. */
function scripted(hungAfterMs = 2000) {
  const state = {
    now: 0,
    sample: { waiting: false, progress: 0 } as WorkSample,
    hung: [] as number[],
  };
  const dog = new Watchdog(() => ({ ...state.sample }), (ms) => state.hung.push(ms), {
    hungAfterMs,
    clock: () => state.now,
  });
  return { dog, state };
}

Deno.test("Watchdog.poll() calls a worker hung once work waited hungAfterMs without progress, once", () => {
  const { dog, state } = scripted();
  dog.watch();
  state.sample = { waiting: true, progress: 5 };
  assert.equal(dog.poll(), false); // the stall starts at the first sample that sees it
  state.now = 1999;
  assert.equal(dog.poll(), false);
  state.now = 2000;
  assert.equal(dog.poll(), true);
  assert.deepEqual(state.hung, [2000]);
  // It stops watching: the next worker is watched only after watch().
  state.now = 9000;
  assert.equal(dog.poll(), false);
  assert.equal(dog.watching, false);
  assert.deepEqual(state.hung, [2000]);
});

Deno.test("Watchdog.poll() never calls an idle worker hung, however long nothing moves", () => {
  const { dog, state } = scripted();
  dog.watch();
  for (let t = 0; t <= 60_000; t += 500) {
    state.now = t;
    assert.equal(dog.poll(), false);
  }
  assert.equal(dog.longestStallMs, 0);
  assert.deepEqual(state.hung, []);
});

Deno.test("Watchdog.poll() restarts the count at any progress: a slow worker is not hung", () => {
  const { dog, state } = scripted();
  dog.watch();
  state.sample = { waiting: true, progress: 1 };
  // Work waits all along; progress comes every 1.9 s (a slow disk, a big batch).
  for (let t = 0; t <= 20_000; t += 100) {
    state.now = t;
    if (t % 1900 === 0) state.sample = { waiting: true, progress: state.sample.progress + 1 };
    assert.equal(dog.poll(), false, `at ${t} ms`);
  }
  assert.ok(dog.longestStallMs >= 1800 && dog.longestStallMs < 2000);
  assert.deepEqual(state.hung, []);
});

Deno.test("Watchdog.poll() judges nothing before watch(), after stop(), or with hungAfterMs 0", () => {
  const { dog, state } = scripted();
  state.sample = { waiting: true, progress: 1 };
  state.now = 10_000;
  assert.equal(dog.poll(), false);
  dog.watch();
  dog.stop();
  state.now = 20_000;
  assert.equal(dog.poll(), false);
  const off = scripted(0);
  off.state.sample = { waiting: true, progress: 1 };
  off.dog.watch();
  off.state.now = 1e9;
  assert.equal(off.dog.poll(), false);
  assert.equal(off.dog.watching, false);
  assert.deepEqual([...state.hung, ...off.state.hung], []);
});

Deno.test("Watchdog() takes a finite hungAfterMs ≥ 0 and defaults to 2000 ms", () => {
  const sample = () => ({ waiting: false, progress: 0 });
  assert.equal(new Watchdog(sample, () => {}).hungAfterMs, DEFAULT_HUNG_AFTER_MS);
  assert.equal(DEFAULT_HUNG_AFTER_MS, 2000);
  for (const bad of [-1, NaN, Infinity, "2000"]) {
    assert.throws(
      () => new Watchdog(sample, () => {}, { hungAfterMs: bad as number }),
      (e: unknown) =>
        e instanceof RangeError && /hungAfterMs must be a finite number/.test(e.message),
    );
  }
});

Deno.test("ringSample() sees published records and unanswered flushes as work, and TAIL, STORED, ALIVE and FLUSH_ACK as progress", () => {
  const control = createControlBuffer(true);
  const c = new Int32Array(control);
  const ring = createRingBuffer(4096, true);
  const producer = new RingProducer(ring, control);
  const consumer = new RingConsumer(ring);
  const idle = ringSample(control, [ring]);
  assert.equal(idle.waiting, false);

  const record = new Uint8Array(32);
  new DataView(record.buffer).setUint32(0, 28, true);
  assert.ok(producer.write(record, 32));
  producer.wake(); // publishes HEAD
  const full = ringSample(control, [ring]);
  assert.equal(full.waiting, true);
  assert.equal(full.progress, idle.progress); // nothing consumed yet

  consumer.drain(() => {});
  const drained = ringSample(control, [ring]);
  assert.equal(drained.waiting, false);
  assert.notEqual(drained.progress, full.progress);
  assert.equal(loadTail(ring), loadHead(ring));

  Atomics.add(c, FLUSH_REQ, 1);
  const asked = ringSample(control, [ring]);
  assert.equal(asked.waiting, true);
  Atomics.add(c, ALIVE, 1);
  assert.notEqual(ringSample(control, [ring]).progress, asked.progress);
  Atomics.add(c, FLUSH_ACK, 1);
  assert.equal(ringSample(control, [ring]).waiting, false);
  // The browser worker's IndexedDB commits (STORED) are progress too.
  const before = ringSample(control, [ring]).progress;
  consumer.markStored(consumer.tail());
  assert.notEqual(ringSample(control, [ring]).progress, before);
});
