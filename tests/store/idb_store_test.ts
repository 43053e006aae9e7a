import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { openDB } from "idb";
import { IdbStore } from "../../src/store/idb_store.ts";
import { SPILL_VERSION } from "../../src/wire/sab_spill.ts";
import type { LogEvent } from "../../src/event.ts";
import { flowEvents, marked, valueKinds } from "./_helpers.ts";
import { makeEvent } from "../support/log_event.ts";

let nextDb = 0;
/** A fresh database name per test (fake-indexeddb keeps databases for the process). */
function dbName(): string {
  return `idb-store-test-${nextDb++}`;
}

async function allEvents(store: IdbStore): Promise<LogEvent[]> {
  const events: LogEvent[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.query(cursor === null ? { limit: 7 } : { limit: 7, cursor });
    events.push(...page.events);
    cursor = page.cursor;
  } while (cursor !== null);
  return events;
}

Deno.test("IdbStore.append() round-trips every value kind", async () => {
  const store = await IdbStore.open(dbName());
  const fields: Record<string, unknown> = { flow_id: "kinds", ...valueKinds() };
  await store.append([makeEvent(1, marked(fields))]);
  const [back] = (await store.getFlowLog("kinds")).events;
  assert.deepEqual(back?.fields, fields);
  assert.ok(Object.is(back?.fields.negative_zero, -0));
  await store.close();
});

Deno.test("IdbStore.append() writes one record per flow per batch, in one transaction", async () => {
  const store = await IdbStore.open(dbName());
  await store.append([...flowEvents("a", 1, 3), ...flowEvents("b", 4, 5), makeEvent(9)]);
  const stats = await store.stats();
  assert.equal(stats.transactions, 1);
  assert.equal(stats.records, 3); // a, b, and the events without a flow
  assert.equal(stats.events, 6);
  await store.close();
});

Deno.test("IdbStore.getFlowLog() reads one flow in order across batches", async () => {
  const store = await IdbStore.open(dbName());
  await store.append([...flowEvents("a", 4, 6), ...flowEvents("b", 1, 3)]);
  await store.append([...flowEvents("a", 1, 3), makeEvent(2_000, { flow_id: "b" })]);
  const log = await store.getFlowLog("a");
  assert.deepEqual(log.events.map((e) => e.fields.n), [1, 2, 3, 4, 5, 6]);
  assert.equal(log.summary.event_count, 6);
  assert.deepEqual((await store.getFlowLog("nope")).events, []);
  await assert.rejects(() => store.getFlowLog(42 as unknown as string), TypeError);
  await store.close();
});

Deno.test("IdbStore.query() pages through every event in timestamp order", async () => {
  const store = await IdbStore.open(dbName());
  // Out of order across batches and flows, with ties on ts_ms.
  await store.append([...flowEvents("a", 10, 19), makeEvent(1_005, { flow_id: "c" }, { seq: 99 })]);
  await store.append([...flowEvents("b", 1, 12), makeEvent(500)]);
  const events = await allEvents(store);
  assert.equal(events.length, 10 + 1 + 12 + 1);
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1]!;
    const b = events[i]!;
    assert.ok(a.ts_ms < b.ts_ms || (a.ts_ms === b.ts_ms && a.producer <= b.producer));
  }
  assert.equal(events[0]!.ts_ms, 500);
  await store.close();
});

Deno.test("IdbStore.query() filters by flow, time range, level and fields", async () => {
  const store = await IdbStore.open(dbName());
  await store.append(flowEvents("a", 1, 50));
  await store.append([
    ...flowEvents("b", 1, 50),
    makeEvent(1_020, { flow_id: "a", n: "err" }, { level: "error", seq: 1000 }),
  ]);
  const inFlow = await store.query({ flow_id: "a", since_ms: 1_010, until_ms: 1_020 });
  assert.deepEqual(inFlow.events.map((e) => e.fields.n), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  const range = await store.query({ since_ms: 1_049, until_ms: 2_000 });
  assert.deepEqual(range.events.map((e) => `${e.fields.flow_id}${e.fields.n}`), [
    "a49",
    "b49",
    "a50",
    "b50",
  ]);
  const errors = await store.query({ level: "error" });
  assert.deepEqual(errors.events.map((e) => e.fields.n), ["err"]);
  const where = await store.query({ where: { n: 7 } });
  assert.equal(where.events.length, 2);
  await assert.rejects(() => store.query({ limit: 0 }), RangeError);
  await store.close();
});

Deno.test("IdbStore.query() filters by category and those below it, by whole parts", async () => {
  const store = await IdbStore.open(dbName());
  const categories = ["my-lib", "my-lib.db", "my-library", "other", 7];
  await store.append(categories.map((category, n) => makeEvent(1_000 + n, { category, n })));
  const page = await store.query({ category: "my-lib" });
  assert.deepEqual(page.events.map((e) => e.fields.category), ["my-lib", "my-lib.db"]);
  await store.close();
});

Deno.test("IdbStore keeps maxBytes by evicting the oldest records, counted", async () => {
  const store = await IdbStore.open(dbName(), { maxBytes: 3_000 });
  let notices = 0; // one log.evicted event per batch that evicted
  let evictedBefore = 0;
  for (let batch = 0; batch < 20; batch++) {
    await store.append(flowEvents(`f${batch}`, batch * 10, batch * 10 + 9));
    const { evicted } = await store.stats();
    if (evicted.records > evictedBefore) notices++;
    evictedBefore = evicted.records;
  }
  const stats = await store.stats();
  assert.ok(stats.bytes <= 3_000 + 100, `${stats.bytes} bytes kept`);
  assert.ok(notices > 0);
  // Every event written is either still stored or counted as evicted.
  assert.equal((await allEvents(store)).length, stats.events);
  assert.equal(stats.events + stats.evicted.events, 200 + notices);
  assert.deepEqual((await store.getFlowLog("f0")).events, []);
  assert.equal((await store.getFlowLog("f19")).events.length, 10);
  await store.close();
});

Deno.test("IdbStore evicts events older than maxAgeMs, counted", async () => {
  let now = 1_000_000;
  const store = await IdbStore.open(dbName(), { maxAgeMs: 10_000, clock: () => now });
  await store.append(flowEvents("old", 1, 5));
  now += 20_000;
  await store.append(flowEvents("new", 1, 5));
  const stats = await store.stats();
  assert.equal(stats.evicted.events, 5);
  assert.deepEqual((await store.getFlowLog("old")).events, []);
  const notice = (await store.query({ event: "log.evicted" })).events[0];
  assert.equal(notice?.fields.events, 5);
  await store.close();
});

/**
 * A quota as Chromium enforces it (measured: tests/browser/quota_test.ts):
 * while `over()` holds, every `add` and `put` is refused with
 * `QuotaExceededError`, however small; deletions always go through and are
 * counted in `deleted`.
 */
function fakeQuota(over: (deleted: number) => boolean): { deleted: number; restore(): void } {
  const g = globalThis as unknown as Record<string, { prototype: Record<string, unknown> }>;
  const stores = g.IDBObjectStore!.prototype;
  const cursors = g.IDBCursor!.prototype;
  const saved = { add: stores.add, put: stores.put, del: stores.delete, cdel: cursors.delete };
  const state = { deleted: 0, restore: () => {} };
  const refuse = (original: unknown) =>
    function (this: unknown, ...args: unknown[]) {
      if (over(state.deleted)) throw new DOMException("", "QuotaExceededError");
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  const count = (original: unknown) =>
    function (this: unknown, ...args: unknown[]) {
      state.deleted++;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  stores.add = refuse(saved.add);
  stores.put = refuse(saved.put);
  stores.delete = count(saved.del);
  cursors.delete = count(saved.cdel);
  state.restore = () => {
    stores.add = saved.add;
    stores.put = saved.put;
    stores.delete = saved.del;
    cursors.delete = saved.cdel;
  };
  return state;
}

Deno.test("IdbStore evicts for the quota in a transaction of deletions alone, then records it", async () => {
  const store = await IdbStore.open(dbName());
  for (let i = 0; i < 8; i++) await store.append(flowEvents(`f${i}`, i * 10, i * 10 + 9));
  // Over quota until two records are deleted: the eviction itself may put nothing.
  const quota = fakeQuota((deleted) => deleted < 2);
  try {
    await store.append(flowEvents("late", 100, 109));
  } finally {
    quota.restore();
  }
  const stats = await store.stats();
  const gone = stats.evicted.records; // the oldest quarter of the bytes: 2 or 3 of 8 records
  assert.ok(gone === 2 || gone === 3, `${gone} records evicted`);
  assert.equal(stats.evicted.quota, 1);
  assert.equal(stats.evicted.events, gone * 10);
  const notices = (await store.query({ event: "log.evicted" })).events;
  assert.deepEqual(notices.map((e) => e.fields), [
    { records: gone, events: gone * 10, bytes: stats.evicted.bytes, cause: "quota" },
  ]);
  // Every event written is stored or counted as evicted; the notice is stored too.
  assert.equal(stats.events + stats.evicted.events, 80 + 10 + 1);
  assert.equal((await allEvents(store)).length, stats.events);
  assert.equal((await store.getFlowLog("late")).events.length, 10);
  assert.deepEqual((await store.getFlowLog(`f${gone - 1}`)).events, []);
  assert.equal((await store.getFlowLog(`f${gone}`)).events.length, 10);
  await store.close();
});

Deno.test("IdbStore.open() recounts a quota eviction the page went away before recording", async () => {
  const name = dbName();
  const first = await IdbStore.open(name);
  for (let i = 0; i < 4; i++) await first.append(flowEvents(`f${i}`, i * 10, i * 10 + 9));
  // The eviction commits, and every write after it fails: as if the page went away.
  const quota = fakeQuota(() => true);
  try {
    await assert.rejects(() => first.append(flowEvents("late", 100, 109)), {
      name: "StoreFullError",
    });
  } finally {
    quota.restore();
  }
  await first.close();
  const second = await IdbStore.open(name);
  await second.sync(); // any write records it
  const stats = await second.stats();
  assert.equal(stats.events + stats.evicted.events, 40 + 1);
  assert.equal(stats.evicted.events, 40);
  assert.equal(stats.records, 1); // the log.evicted notice
  assert.equal((await allEvents(second)).length, stats.events);
  await second.close();
});

Deno.test("IdbStore.append() rejects with the browser's reason when even an empty database refuses", async () => {
  const store = await IdbStore.open(dbName());
  const quota = fakeQuota(() => true);
  try {
    await assert.rejects(() => store.append(flowEvents("x", 1, 2)), (err: Error) => {
      assert.equal(err.name, "StoreFullError");
      assert.match(err.message, /refused 2 events .*: QuotaExceededError$/);
      assert.equal((err.cause as Error).name, "QuotaExceededError");
      return true;
    });
  } finally {
    quota.restore();
  }
  // Nothing half-written: the aborted transactions left no record and no total.
  assert.equal((await store.stats()).events, 0);
  await store.close();
});

Deno.test("IdbStore: two connections to one database (two tabs) keep every batch and total", async () => {
  const name = dbName();
  const a = await IdbStore.open(name);
  const b = await IdbStore.open(name);
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 10; i++) {
    writes.push(a.append(flowEvents("shared", i * 20, i * 20 + 9)));
    writes.push(
      b.append(
        flowEvents("shared", i * 20 + 10, i * 20 + 19).map((e) => ({ ...e, producer: "q.1" })),
      ),
    );
  }
  await Promise.all(writes);
  const log = await a.getFlowLog("shared");
  assert.equal(log.events.length, 200);
  assert.deepEqual(log.events.map((e) => e.fields.n), Array.from({ length: 200 }, (_, i) => i));
  assert.equal((await b.stats()).events, 200);
  await a.close();
  await b.close();
});

Deno.test("IdbStore.sync() commits a strict-durability transaction", async () => {
  const store = await IdbStore.open(dbName());
  const proto = (globalThis as unknown as {
    IDBDatabase: { prototype: { transaction: unknown } };
  }).IDBDatabase.prototype;
  const transaction = proto.transaction as (this: unknown, ...args: unknown[]) => unknown;
  const seen: unknown[] = [];
  proto.transaction = function (this: unknown, ...args: unknown[]) {
    seen.push((args[2] as { durability?: string } | undefined)?.durability);
    return transaction.apply(this, args);
  };
  try {
    await store.append([makeEvent(1)]);
    await store.sync();
  } finally {
    proto.transaction = transaction;
  }
  assert.deepEqual(seen, ["relaxed", "strict"]);
  await store.close();
});

// Its limits come checked by resolveStoreOptions(): tests/front/options_test.ts.
Deno.test("IdbStore.open() rejects a bad name with a TypeError", async () => {
  await assert.rejects(() => IdbStore.open(""), TypeError);
  const store = await IdbStore.open(dbName());
  await store.close();
  await assert.rejects(() => store.append([makeEvent(1)]), TypeError);
});

interface DatabaseLike {
  transaction(store: string, mode: "readwrite"): {
    objectStore(name: string): { put(value: unknown): unknown };
    oncomplete: ((v: unknown) => void) | null;
  };
  close(): void;
}
interface OpenLike {
  result: DatabaseLike;
  onsuccess: (() => void) | null;
}

/** A page's spill, as it is written to the `pending` object store. */
interface Spill {
  v?: number;
  producer: string;
  bytes: Uint8Array;
  emitted: number;
  dropped: number;
}

/** Writes `spills` as a page does: without idb, on its own connection (see openSpill in platform/browser.ts). */
async function putSpills(name: string, spills: Spill[]): Promise<void> {
  const factory = (globalThis as unknown as { indexedDB: { open(n: string): OpenLike } }).indexedDB;
  const db = await new Promise<DatabaseLike>((resolve) => {
    const req = factory.open(name);
    req.onsuccess = () => resolve(req.result);
  });
  const tx = db.transaction("pending", "readwrite");
  for (const spill of spills) tx.objectStore("pending").put(spill);
  await new Promise((resolve) => (tx.oncomplete = resolve));
  db.close();
}

/** Writes a spill of no events for each of `producers`. */
function putEmptySpills(name: string, producers: string[]): Promise<void> {
  return putSpills(
    name,
    producers.map((producer) => ({ producer, bytes: new Uint8Array(0), emitted: 0, dropped: 0 })),
  );
}

Deno.test("IdbStore.takePending() takes the batches pages spilled, once", async () => {
  const name = dbName();
  const store = await IdbStore.open(name);
  await putSpills(name, [{
    producer: "p.0",
    bytes: new Uint8Array([1, 2]),
    emitted: 3,
    dropped: 1,
  }]);
  const taken = await store.takePending();
  assert.deepEqual(taken.map((b) => [b.producer, [...b.bytes], b.emitted, b.dropped]), [
    ["p.0", [1, 2], 3, 1],
  ]);
  assert.deepEqual(await store.takePending(), []);
  await store.close();
});

Deno.test("IdbStore.takePending() leaves a batch of a newer format for a page that reads it", async () => {
  const name = dbName();
  const store = await IdbStore.open(name);
  const batch = (producer: string) => ({
    producer,
    bytes: new Uint8Array(0),
    emitted: 0,
    dropped: 0,
  });
  await putSpills(name, [
    { ...batch("unversioned.0") },
    { ...batch("now.0"), v: SPILL_VERSION },
    { ...batch("older.0"), v: 1 },
    { ...batch("newer.0"), v: SPILL_VERSION + 1 },
  ]);
  const taken = await store.takePending();
  assert.deepEqual(taken.map((b) => b.producer), ["unversioned.0", "now.0", "older.0"]);
  assert.deepEqual(await store.takePending(), []);
  await store.close();
  // Still there for a page of its version: the row, whole.
  const db = await openDB(name);
  assert.deepEqual(await db.getAll("pending"), [{ ...batch("newer.0"), v: SPILL_VERSION + 1 }]);
  db.close();
});

Deno.test("IdbStore.takePending() says up to which seq the producer's events are stored", async () => {
  const name = dbName();
  const store = await IdbStore.open(name);
  // The old worker stored seq 1..7 of p.0 (and others' events) before the page spilled.
  await store.append([
    makeEvent(1, {}, { producer: "p.0", seq: 5 }),
    makeEvent(2, {}, { seq: 90 }),
  ]);
  await store.append([makeEvent(3, {}, { producer: "p.0", seq: 7 })]);
  await putEmptySpills(name, ["p.0", "p.9"]);
  const taken = await store.takePending();
  assert.deepEqual(taken.map((b) => [b.producer, b.stored]), [["p.0", 7], ["p.9", undefined]]);
  await store.close();
});

Deno.test("IdbStore.takePending() removes seq marks past the age limit", async () => {
  const name = dbName();
  let now = 1_000;
  const clock = () => now;
  const store = await IdbStore.open(name, { maxAgeMs: 100, clock });
  await store.append([makeEvent(now, {}, { producer: "old.0", seq: 3 })]);
  now += 50;
  await store.append([makeEvent(now, {}, { producer: "new.0", seq: 4 })]);
  now += 60; // old.0's mark is 110 ms old, new.0's 60 ms
  await store.takePending();
  await store.close();
  // A second instance sees what the first left: spills of both producers.
  const again = await IdbStore.open(name, { maxAgeMs: 100, clock });
  await putEmptySpills(name, ["old.0", "new.0"]);
  const taken = await again.takePending();
  assert.deepEqual(taken.map((b) => [b.producer, b.stored]), [["old.0", undefined], ["new.0", 4]]);
  await again.close();
});

Deno.test("IdbStore.query() answers an empty time window with no events", async () => {
  const store = await IdbStore.open(dbName());
  await store.append([makeEvent(5)]); // one-event records: t0 = t1
  assert.deepEqual((await store.query({ since_ms: 5, until_ms: 5 })).events, []);
  assert.equal((await store.query({ since_ms: 5, until_ms: 6 })).events.length, 1);
  await store.close();
});
