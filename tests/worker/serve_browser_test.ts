import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import {
  type AsyncStore,
  type BrowserWorkerOptions,
  serveBrowserWorker,
  WriteBehind,
} from "../../src/worker/serve_browser.ts";
import { Consumer } from "../../src/worker/consumer.ts";
import { createControlBuffer, loadStored } from "../../src/wire/ring.ts";
import type { PendingBatch } from "../../src/wire/sab_spill.ts";
import { Encoder } from "../../src/wire/codec.ts";
import { IdbStore } from "../../src/store/idb_store.ts";
import type { LogEvent } from "../../src/event.ts";
import { NodeStatsAccumulator, type NodeStatsFilter } from "../../src/query/node_stats.ts";
import { StoreFullError } from "../../src/store/errors.ts";
import { lossBatch } from "../../src/wire/sab_spill.ts";
import { isPackedFlowLog, unpackFlowLog } from "../../src/worker/packed_flow_log.ts";
import { messageBatch } from "../support/message_batch.ts";
import type { WorkerInit, WorkerNotice } from "../../src/worker/api.ts";
import { makeEvent } from "../support/log_event.ts";
import { ringWriter } from "../support/ring_writer.ts";

let nextDb = 0;

function ringSetup(ringBytes = 1 << 16) {
  const { control, ring, producer, log } = ringWriter({ ringBytes });
  return { control, ring: ring as SharedArrayBuffer, producer, log };
}

/** Serves the ring of producer `p.0` into a fresh IndexedDB database. */
function serveRing(
  control: SharedArrayBuffer | ArrayBuffer,
  ring: SharedArrayBuffer,
  init: Partial<WorkerInit> = {},
  options: BrowserWorkerOptions = {},
) {
  return serveBrowserWorker(
    {
      dir: `bw-${nextDb++}`,
      store: {},
      control,
      rings: [{ producer: "p.0", buffer: ring }],
      shared: true,
      ...init,
    },
    (name, options) => IdbStore.open(name, options),
    options,
  );
}

/** Event `e` of producer `p` at time `seq`. */
function ev(seq: number): LogEvent {
  return makeEvent(seq, {}, { event: "e", producer: "p", seq });
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
  listFlowPage(): never {
    throw new Error("unused");
  }
  nodeStats(filter: NodeStatsFilter | undefined) {
    const stats = new NodeStatsAccumulator(filter);
    stats.offer(this.events);
    return Promise.resolve(stats);
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
  const api = serveRing(control, ring);
  assert.equal(await api.ready(), null);
  for (let i = 0; i < 500; i++) log("step", { flow_id: i % 2 === 0 ? "even" : "odd", i });
  producer.wake();
  await api.flush(true);
  assert.equal(producer.counters().persisted, 500);
  // Everything committed: a page spilling now would spill nothing.
  assert.equal(loadStored(ring), producer.head());
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
  const bytes = messageBatch(1, 3);
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

Deno.test("WriteBehind: events count as persisted once written, as lost when refused", async () => {
  const { control, ring, producer, log } = ringSetup();
  const store = new FakeAsyncStore();
  const behind = new WriteBehind(store, {
    onWritten: (events) => consumer.confirm("p.0", events.length, 0),
    onLost: (events, err) => consumer.refused("p.0", events.length, err),
  });
  const consumer: Consumer = new Consumer(behind, control, 0, { confirmed: true });
  consumer.addRing("p.0", ring);
  for (let i = 0; i < 5; i++) log("e", { i });
  producer.wake();
  consumer.drain();
  assert.equal(producer.counters().persisted, 0, "queued, not yet written");
  await behind.settle();
  assert.equal(producer.counters().persisted, 5);
  store.fail = new DOMException("", "QuotaExceededError");
  for (let i = 0; i < 3; i++) log("e", { i });
  producer.wake();
  consumer.drain();
  await behind.settle(); // the store's append rejects
  const c = producer.counters();
  assert.equal(c.persisted, 5);
  assert.equal(c.lost, 3);
  assert.equal(c.emitted, c.persisted + c.dropped + c.lost);
  // The browser's reason, even from a DOMException without a message.
  assert.throws(
    () => consumer.flush(false),
    /^Error: Store write failed, events were dropped: QuotaExceededError$/,
  );
  assert.equal(behind.backlog(), 0);
  consumer.close();
});

Deno.test("WriteBehind writes a batch an emptied database refuses again in halves", async () => {
  const store = new (class extends FakeAsyncStore {
    override append(events: readonly LogEvent[]): Promise<void> {
      // Room for 3 events at most, as an origin whose quota is smaller than a batch.
      if (events.length > 3) {
        return Promise.reject(
          new StoreFullError("db", events.length, new DOMException("", "QuotaExceededError")),
        );
      }
      return super.append(events);
    }
  })();
  const lost: number[] = [];
  const behind = new WriteBehind(store, { onLost: (events) => lost.push(events.length) });
  behind.append(Array.from({ length: 10 }, (_, i) => ev(i + 1)));
  await behind.written();
  assert.deepEqual(store.events.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(store.batches.every((n) => n <= 3));
  assert.deepEqual(lost, []);
});

Deno.test("WriteBehind writes what queued meanwhile as one batch per call", async () => {
  const store = new FakeAsyncStore();
  const behind = new WriteBehind(store, { maxBatch: 4, maxBacklog: 6 });
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
  const bytes = messageBatch(1, 5);
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

Deno.test("serveBrowserWorker() stores what pages spilled into localStorage and pending, each event once", async () => {
  const old = { producer: "old.0", emitted: 6, dropped: 0 };
  const store = new (class extends FakeAsyncStore {
    also: PendingBatch[] = [];
    takePending(also: PendingBatch[] = []): Promise<PendingBatch[]> {
      this.also = also;
      // The old worker committed up to seq 2 (the store's mark for "old.0").
      for (const b of also) if (b.producer === "old.0") b.stored = 2;
      return Promise.resolve([{ ...old, bytes: messageBatch(1, 5), stored: 2 }]);
    }
  })();
  const spilled: PendingBatch[] = [
    // The same events again (spilled at beforeunload and at pagehide), and one more.
    { ...old, bytes: messageBatch(1, 6) },
    // A part that never arrived, though its events are stored: no loss to record.
    { ...lossBatch({ ...old, bytes: messageBatch(3, 4) })!, unlessStored: 4 },
    // A page whose last parts never arrived: its loss is recorded.
    {
      ...lossBatch({ producer: "gone.0", bytes: messageBatch(1, 3), emitted: 3, dropped: 0 })!,
      unlessStored: 3,
    },
  ];
  const api = serveBrowserWorker(
    { dir: "x", store: {}, control: createControlBuffer(false), rings: [], shared: false, spilled },
    () => Promise.resolve(store),
  );
  assert.equal(await api.ready(), null);
  assert.equal(store.also, spilled, "their stored marks are read with the pending batches");
  assert.deepEqual(store.events.map((e) => `${e.producer}:${e.event}:${e.seq}`), [
    "old.0:e:3",
    "old.0:e:4",
    "old.0:e:5",
    "old.0:e:6",
    "gone.0:log.dropped:0",
  ]);
  assert.equal(store.events.at(-1)!.fields.count, 3);
  await api.close();
});

Deno.test("serveBrowserWorker() acknowledges a postMessage batch once the store wrote it, not before", async () => {
  // Each append waits for the test's release().
  let release: (() => void) | null = null;
  const store = new (class extends FakeAsyncStore {
    override async append(events: readonly LogEvent[]): Promise<void> {
      await new Promise<void>((resolve) => (release = resolve));
      return super.append(events);
    }
  })();
  const appending = async () => {
    while (release === null) await new Promise((r) => setTimeout(r, 0));
    const go = release;
    release = null;
    return go;
  };
  const notices: unknown[] = [];
  const api = serveBrowserWorker(
    { dir: "x", store: {}, control: createControlBuffer(false), rings: [], shared: false },
    () => Promise.resolve(store),
    { notify: (n) => notices.push(n) },
  );
  assert.equal(await api.ready(), null);
  const enc = new Encoder();
  const one = () => enc.buf.slice(0, (enc.encode(1, 1, 9, 0, "e", {}) + 3) & ~3);
  let acked: unknown = null;
  const ack = Promise.resolve(api.ingest("m.0", one(), 1, 0)).then((a) => (acked = a));
  const go = await appending();
  assert.equal(acked, null, "not acknowledged while IndexedDB has not committed");
  go();
  await ack;
  assert.deepEqual(acked, { persisted: 1, internal: 0, lost: 0 });
  // A refused batch is acknowledged as lost, never as persisted, and the page is told why.
  store.fail = new DOMException("", "QuotaExceededError");
  const refused = Promise.resolve(api.ingest("m.0", one(), 2, 0));
  (await appending())();
  assert.deepEqual(await refused, { persisted: 1, internal: 0, lost: 1 });
  assert.deepEqual(notices, [
    { type: "flightlog-notice", error: null, evicted: 0 }, // the first batch written
    {
      type: "flightlog-notice",
      error: "Store write failed, events were dropped: QuotaExceededError",
      evicted: 0,
    },
  ]);
  await assert.rejects(() => Promise.resolve(api.flush(false)), /QuotaExceededError/);
  await api.close();
});

Deno.test("serveBrowserWorker() answers nodeStats() from IndexedDB, by flow index or time range", async () => {
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
  try {
    assert.equal(await api.ready(), null);
    // Event i is at 1000 + i ms: fetch takes i ms in flow a, parse 5 ms in flow b.
    for (let i = 1; i <= 200; i++) {
      if (i % 2 === 0) {
        log("step_end", { flow_id: "a", step_id: "fetch", status: "ok", duration_ms: i });
      } else {
        log("node_exit", { flow_id: "b", node: "parse", duration_ms: 5, usage: { cost_usd: 1 } });
      }
    }
    producer.wake();
    const all = await api.nodeStats(undefined);
    assert.deepEqual(all.map((r) => [r.flow_id, r.name, r.count, r.total_ms, r.cost_usd]), [
      ["a", "fetch", 100, 10_100, 0],
      ["b", "parse", 100, 500, 100],
    ]);
    assert.equal(all[0]!.max, 200);
    assert.ok(Math.abs(all[0]!.p50! - 100) <= 1, String(all[0]!.p50));
    const [a] = await api.nodeStats({ flow_id: "a", until_ms: 1_051 });
    assert.deepEqual([a!.count, a!.max], [25, 50]);
    const window = await api.nodeStats({ since_ms: 1_101, node: "p*" });
    assert.deepEqual(window.map((r) => [r.name, r.count]), [["parse", 50]]);
    assert.deepEqual(await api.nodeStats({ flow_id: "none" }), []);
  } finally {
    await api.close();
  }
});

Deno.test("serveBrowserWorker() lists IndexedDB flows a page at a time, as the Deno store does", async () => {
  const { control, ring, producer, log: write } = ringSetup(1 << 20);
  const log = (ts_ms: number, severity: number, event: string, fields: Record<string, unknown>) =>
    assert.ok(write(event, fields, { ts_ms, severity }));
  const api = serveRing(control, ring);
  try {
    assert.equal(await api.ready(), null);
    // 120 quiet flows, then one of two runs with an error, one still running.
    for (let i = 0; i < 120; i++) log(1_000 + i, 9, "step", { flow_id: `f-${i}` });
    log(5_000, 9, "run_start", { flow_id: "agent", run_id: "r-1" });
    log(5_001, 17, "step_end", { flow_id: "agent", run_id: "r-1", status: "failed" });
    log(5_002, 9, "run_end", { flow_id: "agent", run_id: "r-1", status: "failed" });
    log(5_003, 9, "run_start", { flow_id: "agent", run_id: "r-2" });
    log(5_004, 9, "step_end", { flow_id: "agent", run_id: "r-2" });
    log(6_000, 9, "no flow", {});
    producer.wake();
    const first = await api.listFlows({ limit: 50 });
    assert.deepEqual(first.flows[0], {
      flow_id: "agent",
      run_ids: ["r-1", "r-2"],
      first_ts_ms: 5_000,
      last_ts_ms: 5_004,
      event_count: 5,
      error_count: 1,
      status: "running",
    });
    // New events after the first page do not move flows between its pages.
    log(7_000, 9, "step", { flow_id: "f-0" });
    producer.wake();
    const ids = first.flows.map((f) => f.flow_id);
    let cursor = first.cursor;
    while (cursor !== null) {
      const page = await api.listFlows({ limit: 50, cursor });
      ids.push(...page.flows.map((f) => f.flow_id));
      cursor = page.cursor;
    }
    assert.equal(ids.length, 121);
    assert.deepEqual(ids.slice(0, 3), ["agent", "f-119", "f-118"]);
    assert.equal(ids[120], "f-0");
    const fresh = await api.listFlows({ limit: 2, since_ms: 5_000 });
    assert.deepEqual(fresh.flows.map((f) => [f.flow_id, f.event_count]), [["f-0", 2], [
      "agent",
      5,
    ]]);
    assert.equal(fresh.cursor, null);
    await assert.rejects(
      () => Promise.resolve(api.listFlows({ cursor: "junk" })),
      /Invalid listFlows\(\) cursor/,
    );
  } finally {
    await api.close();
  }
});

Deno.test("serveBrowserWorker() hands sinks the batches IndexedDB committed, in order, and reports their counters", async () => {
  const { control, ring, producer, log } = ringSetup();
  const got: number[] = [];
  const notices: WorkerNotice[] = [];
  const sinkModule = {
    default: ({ label }: { label: string }) => async (events: LogEvent[]) => {
      await null;
      for (const e of events) got.push(e.fields.i as number);
      assert.equal(label, "recorder");
    },
  };
  const loaded: string[] = [];
  const api = serveRing(
    control,
    ring,
    {
      sinks: [{
        module: "https://example.test/sink.js",
        options: { label: "recorder" },
        maxQueued: 1000,
        flushTimeoutMs: 1000,
      }],
    },
    {
      notify: (n) => notices.push(n),
      loadModule: (url) => {
        loaded.push(url);
        return Promise.resolve(sinkModule);
      },
    },
  );
  assert.equal(await api.ready(), null);
  for (let i = 0; i < 300; i++) log("step", { i });
  producer.wake();
  await api.flush(false);
  // flush() answered: the sink has every committed event, and the page its counters.
  assert.deepEqual(loaded, ["https://example.test/sink.js"]);
  assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => i));
  const last = notices.findLast((n) => n.sinks !== undefined);
  assert.deepEqual(last?.sinks, [{
    module: "https://example.test/sink.js",
    delivered: 300,
    dropped: 0,
    errors: 0,
    queued: 0,
    error: null,
  }]);
  await api.close();
});

Deno.test("serveBrowserWorker() does not hand sinks a batch the store refused", async () => {
  const store = new FakeAsyncStore();
  const got: number[] = [];
  const api = serveBrowserWorker(
    {
      dir: `bw-${nextDb++}`,
      store: {},
      control: createControlBuffer(false),
      rings: [],
      shared: false,
      sinks: [{ module: "mem:sink", options: null, maxQueued: 1000, flushTimeoutMs: 1000 }],
    },
    () => Promise.resolve(store),
    {
      loadModule: () =>
        Promise.resolve({
          default: () => (events: LogEvent[]) => void got.push(...events.map((e) => e.seq)),
        }),
    },
  );
  assert.equal(await api.ready(), null);
  store.fail = new Error("disk on fire");
  await api.ingest("m.0", messageBatch(1, 2), 2, 0);
  await assert.rejects(async () => await api.flush(false), /disk on fire/);
  store.fail = null;
  await api.ingest("m.0", messageBatch(3, 4), 4, 0);
  await api.flush(false);
  assert.deepEqual(got, [3, 4]);
  await api.close();
});
