import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { type AsyncStore, serveBrowserWorker, WriteBehind } from "../src/browser_worker.ts";
import { Consumer } from "../src/worker_core.ts";
import {
  createControlBuffer,
  createRingBuffer,
  HEADER_BYTES,
  RingProducer,
  STORED,
} from "../src/ring.ts";
import type { PendingBatch } from "../src/store/idb_schema.ts";
import { Encoder } from "../src/codec.ts";
import { IdbStore } from "../src/store/idb_store.ts";
import type { LogEvent } from "../src/event.ts";
import { isPackedFlowLog, unpackFlowLog } from "../src/packed_flow_log.ts";

let nextDb = 0;

function ringSetup(ringBytes = 1 << 16) {
  const control = createControlBuffer(true);
  const ring = createRingBuffer(ringBytes, true) as SharedArrayBuffer;
  const producer = new RingProducer(ring, control);
  const enc = new Encoder();
  let seq = 0;
  let dropped = 0;
  const log = (event: string, fields: Record<string, unknown> = {}) => {
    const len = enc.encode(++seq, 1000 + seq, 9, 0, event, fields);
    if (!producer.write(enc.buf, len)) dropped++;
    producer.publish(seq, dropped);
  };
  return { control, ring, producer, log };
}

/** An AsyncStore in memory that can be told to fail, and counts its calls. */
class FakeAsyncStore implements AsyncStore {
  events: LogEvent[] = [];
  batches: number[] = [];
  syncs = 0;
  fail: Error | null = null;
  append(events: readonly LogEvent[]): Promise<void> {
    if (this.fail !== null) return Promise.reject(this.fail);
    this.batches.push(events.length);
    this.events.push(...events);
    return Promise.resolve();
  }
  sync(): Promise<void> {
    this.syncs++;
    return Promise.resolve();
  }
  query() {
    return Promise.resolve({ events: this.events, cursor: null });
  }
  getFlowLog(): never {
    throw new Error("unused");
  }
  stats() {
    return Promise.resolve({});
  }
  close() {
    return Promise.resolve();
  }
}

Deno.test("serveBrowserWorker() drains a shared ring into IndexedDB and answers queries", async () => {
  const { control, ring, producer, log } = ringSetup();
  const api = serveBrowserWorker(
    {
      dir: `bw-${nextDb++}`,
      store: {},
      control,
      rings: [{ producer: "p.0", buffer: ring }],
      shared: true,
    },
    (name, options) => IdbStore.open(name, options),
  );
  assert.equal(await api.ready(), null);
  for (let i = 0; i < 500; i++) log("step", { flow_id: i % 2 === 0 ? "even" : "odd", i });
  producer.wake();
  await api.flush(true);
  assert.equal(producer.counters().persisted, 500);
  // Everything committed: a page spilling now would spill nothing.
  assert.equal(Atomics.load(new Int32Array(ring, 0, HEADER_BYTES / 4), STORED), producer.head());
  const packed = await api.getFlowLog("even");
  assert.ok(isPackedFlowLog(packed), "the flow log crosses threads as payloads");
  const even = unpackFlowLog(packed);
  assert.equal(even.events.length, 250);
  assert.deepEqual(even.events.slice(0, 3).map((e) => e.fields.i), [0, 2, 4]);
  const page = await api.query({ flow_id: "odd", limit: 10 });
  assert.equal(page.events.length, 10);
  await api.close();
});

Deno.test("serveBrowserWorker() stores postMessage batches and acknowledges the counters", async () => {
  const control = createControlBuffer(false);
  const api = serveBrowserWorker(
    { dir: `bw-${nextDb++}`, store: {}, control, rings: [], shared: false },
    (name, options) => IdbStore.open(name, options),
  );
  const enc = new Encoder();
  const parts: Uint8Array[] = [];
  for (let seq = 1; seq <= 3; seq++) {
    const len = enc.encode(seq, 1000 + seq, 9, 0, "e", { flow_id: "f" });
    parts.push(enc.buf.slice(0, (len + 3) & ~3));
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) bytes.set(p, (at += p.length) - p.length);
  const ack = await api.ingest("m.0", bytes, 4, 1);
  assert.deepEqual(ack, { persisted: 3, internal: 0, lost: 0 });
  await api.flush(false);
  const packed = await api.getFlowLog("f");
  assert.equal(isPackedFlowLog(packed) ? unpackFlowLog(packed).events.length : -1, 3);
  await api.close();
});

Deno.test("serveBrowserWorker() reports a database that cannot be opened", async () => {
  const api = serveBrowserWorker(
    { dir: "nope", store: {}, control: createControlBuffer(false), rings: [], shared: false },
    () => Promise.reject(new Error("IndexedDB is disabled")),
  );
  assert.match(
    (await api.ready())!,
    /Cannot open the flightlog IndexedDB database "nope": IndexedDB is disabled/,
  );
  await assert.rejects(() => Promise.resolve(api.flush(false)), /IndexedDB is disabled/);
  await api.close();
});

Deno.test("WriteBehind moves a batch the store failed to write from persisted to lost", async () => {
  const { control, ring, producer, log } = ringSetup();
  const store = new FakeAsyncStore();
  const behind = new WriteBehind(store, {
    onLost: (events, err) => consumer.revoke("p.0", events.length, 0, err),
  });
  const consumer: Consumer = new Consumer(behind, control);
  consumer.addRing("p.0", ring);
  store.fail = new Error("QuotaExceededError: the origin is full");
  for (let i = 0; i < 5; i++) log("e", { i });
  producer.wake();
  consumer.drain();
  assert.equal(producer.counters().persisted, 5); // accepted by the write-behind queue
  await behind.settle(); // the store's append rejects
  const c = producer.counters();
  assert.equal(c.persisted, 0);
  assert.equal(c.lost, 5);
  assert.equal(c.emitted, c.persisted + c.dropped + c.lost);
  assert.throws(() => consumer.flush(false), /the origin is full/);
  assert.equal(behind.backlog(), 0);
  consumer.close();
});

Deno.test("WriteBehind writes what queued meanwhile as one batch per call", async () => {
  const store = new FakeAsyncStore();
  const behind = new WriteBehind(store, { maxBatch: 4, maxBacklog: 6 });
  const ev = (seq: number): LogEvent => ({
    ts_ms: seq,
    level: "info",
    severity: 9,
    event: "e",
    producer: "p",
    seq,
    fields: {},
  });
  behind.append([ev(1)]);
  behind.append([ev(2), ev(3), ev(4), ev(5), ev(6)]);
  behind.append([ev(7)]);
  assert.ok(behind.full());
  await behind.settle();
  assert.equal(behind.backlog(), 0);
  assert.ok(!behind.full());
  assert.deepEqual(store.events.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7]);
  assert.ok(store.batches.every((n) => n <= 4));
  assert.ok(store.batches.length < 7);
});

Deno.test("WriteBehind.mark() calls back once the events appended before it are written", async () => {
  const store = new FakeAsyncStore();
  const behind = new WriteBehind(store, { maxBatch: 2 });
  const ev = (seq: number): LogEvent => ({
    ts_ms: seq,
    level: "info",
    severity: 9,
    event: "e",
    producer: "p",
    seq,
    fields: {},
  });
  const seen: number[][] = [];
  behind.mark(() => seen.push([])); // nothing queued: at once
  assert.equal(seen.length, 1);
  behind.append([ev(1), ev(2), ev(3)]);
  behind.mark(() => seen.push([-1])); // replaced by the next: nothing appended in between
  behind.mark(() => seen.push(store.events.map((e) => e.seq)));
  behind.append([ev(4)]);
  assert.equal(seen.length, 1, "not before the store wrote them");
  await behind.settle();
  assert.equal(seen.length, 2);
  // Written by then: 1..3 at least (4 may share the batch of 3).
  assert.deepEqual(seen[1]!.slice(0, 3), [1, 2, 3]);
});

Deno.test("serveBrowserWorker() skips the spilled events the old worker had stored", async () => {
  const enc = new Encoder();
  const parts: Uint8Array[] = [];
  for (let seq = 1; seq <= 5; seq++) {
    const len = enc.encode(seq, 1000 + seq, 9, 0, "e", { flow_id: "f" });
    parts.push(enc.buf.slice(0, (len + 3) & ~3));
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) bytes.set(p, (at += p.length) - p.length);
  const store = new (class extends FakeAsyncStore {
    takePending(): Promise<PendingBatch[]> {
      return Promise.resolve([{ producer: "old.0", bytes, emitted: 5, dropped: 0, stored: 3 }]);
    }
  })();
  const api = serveBrowserWorker(
    { dir: "x", store: {}, control: createControlBuffer(false), rings: [], shared: false },
    () => Promise.resolve(store),
  );
  assert.equal(await api.ready(), null);
  assert.deepEqual(store.events.map((e) => e.seq), [4, 5]);
  await api.close();
});
