import assert from "node:assert/strict";
import type { LogEvent } from "../../src/event.ts";
import { StoreLockedError, StoreStateError, StoreWriteError } from "../../src/store/errors.ts";
import { lockStoreDir } from "../../src/store/lock.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";
import { FILE_HEADER_SIZE } from "../../src/store/segment_format.ts";
import {
  flowEvents,
  manualClock,
  marked,
  recordingFs,
  segmentFiles,
  valueKinds,
} from "./_helpers.ts";
import { makeEvent } from "../support/log_event.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { allPages } from "../support/query_pages.ts";

const DAY = 24 * 60 * 60 * 1000;

/** All events of the store, in query order. */
function allEvents(store: SegmentStore): LogEvent[] {
  return allPages((filter) => store.query(filter), { limit: 100_000 });
}

Deno.test("SegmentStore.append() round-trips every value kind", async () => {
  await withTempDir((dir) => {
    const fields: Record<string, unknown> = { flow_id: "kinds", ...valueKinds() };
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "constructor": "c"}');
    const store = SegmentStore.open(dir);
    store.append([makeEvent(1, marked(fields)), makeEvent(2, { flow_id: "kinds", hostile })]);
    const check = (s: SegmentStore) => {
      const [first, second] = s.getFlowLog("kinds").events;
      assert.deepEqual(first?.fields, fields);
      assert.ok(Object.is(first?.fields.negative_zero, -0));
      const back = second?.fields.hostile as Record<string, unknown>;
      assert.deepEqual(Object.keys(back), ["__proto__", "constructor"]);
      assert.equal(Object.getPrototypeOf(back), Object.prototype);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    };
    check(store);
    store.close();
    const reopened = SegmentStore.open(dir, { readOnly: true });
    check(reopened);
    reopened.close();
  });
});

Deno.test("SegmentStore.append() writes a batch's records with one write call", async () => {
  await withTempDir((dir) => {
    const { fs, log } = recordingFs();
    const store = SegmentStore.open(dir, { fs });
    store.append([]);
    const headerWrites = log.writes.length;
    const batch = [
      ...flowEvents("a", 1, 5),
      ...flowEvents("b", 6, 9),
      makeEvent(10, { note: "no flow" }, { seq: 10 }),
    ];
    store.append(batch);
    const segmentWrites = log.writes.slice(headerWrites).filter((w) => w.path.endsWith(".flog"));
    // The first append creates the segment (its header is one write), then one write for the batch.
    assert.equal(segmentWrites.length, 2);
    assert.equal(segmentWrites[0]!.bytes, FILE_HEADER_SIZE);
    assert.equal(store.stats().records, 3);
    assert.equal(store.stats().events, 10);
    store.append(flowEvents("a", 11, 12));
    assert.equal(log.writes.slice(headerWrites).filter((w) => w.path.endsWith(".flog")).length, 3);
    store.close();
  });
});

Deno.test("SegmentStore.append() rotates to a new segment by size", async () => {
  await withTempDir((dir) => {
    const store = SegmentStore.open(dir, { segmentBytes: 2048, maxAgeMs: Infinity });
    for (let b = 0; b < 20; b++) store.append(flowEvents(`f${b % 3}`, b * 10 + 1, b * 10 + 10));
    const stats = store.stats();
    assert.ok(stats.segments >= 4, `segments ${stats.segments}`);
    assert.equal(segmentFiles(dir).length, stats.segments);
    assert.equal(stats.events, 200);
    for (const name of segmentFiles(dir)) {
      assert.ok(Deno.statSync(`${dir}/${name}`).size < 2048 + 1024, name);
    }
    assert.equal(allEvents(store).length, 200);
    store.close();
    const reopened = SegmentStore.open(dir, { segmentBytes: 2048, maxAgeMs: Infinity });
    assert.equal(reopened.stats().events, 200);
    assert.equal(reopened.stats().damage.regions, 0);
    reopened.close();
  });
});

Deno.test("SegmentStore.append() continues the last segment after reopening", async () => {
  await withTempDir((dir) => {
    const first = SegmentStore.open(dir, { maxAgeMs: Infinity });
    first.append(flowEvents("f", 1, 3));
    first.close();
    const second = SegmentStore.open(dir, { maxAgeMs: Infinity });
    second.append(flowEvents("f", 4, 6));
    assert.deepEqual(segmentFiles(dir), ["seg-0000000000000001.flog"]);
    assert.deepEqual(second.getFlowLog("f").events.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
    second.close();
  });
});

Deno.test("SegmentStore.append() evicts the oldest segments beyond maxBytes and logs it", async () => {
  await withTempDir((dir) => {
    const clock = manualClock(10_000);
    const store = SegmentStore.open(dir, {
      segmentBytes: 1024,
      maxBytes: 4096,
      maxAgeMs: Infinity,
      clock: clock.now,
    });
    let appended = 0;
    let notices = 0;
    for (let b = 0; b < 40; b++) {
      const before = store.stats().evicted.segments;
      store.append(flowEvents("f", b * 5 + 1, b * 5 + 5));
      appended += 5;
      const stats = store.stats();
      if (stats.evicted.segments > before) notices++;
      assert.ok(stats.bytes <= 4096 + 1024, `bytes ${stats.bytes}`);
    }
    const stats = store.stats();
    assert.ok(notices > 0);
    assert.equal(stats.events + stats.evicted.events, appended + notices);
    assert.equal(stats.bytes, bytesOnDisk(dir));
    const kept = store.query({ event: "log.evicted" }).events;
    assert.ok(kept.length > 0);
    let previous = 0;
    for (const notice of kept) {
      assert.equal(notice.producer, "store");
      assert.equal(notice.level, "info");
      assert.deepEqual(Object.keys(notice.fields), ["segments", "records", "events", "bytes"]);
      assert.ok((notice.fields.segments as number) >= 1);
      assert.ok(notice.seq > previous);
      previous = notice.seq;
    }
    // The flow lost exactly the events of the evicted segments that were not notices.
    const remaining = store.getFlowLog("f").events;
    assert.equal(remaining.at(-1)?.seq, appended);
    assert.deepEqual(
      remaining.map((e) => e.seq),
      Array.from({ length: remaining.length }, (_, i) => appended - remaining.length + 1 + i),
    );
    store.close();
  });
});

/** Bytes of the segment files in `dir`. */
function bytesOnDisk(dir: string): number {
  let bytes = 0;
  for (const name of segmentFiles(dir)) bytes += Deno.statSync(`${dir}/${name}`).size;
  return bytes;
}

Deno.test("SegmentStore.append() evicts segments older than maxAgeMs by the injected clock", async () => {
  await withTempDir((dir) => {
    const clock = manualClock(100 * DAY);
    // Event timestamps play no part: retention goes by the store's clock.
    const store = SegmentStore.open(dir, { maxAgeMs: DAY, clock: clock.now });
    store.append([makeEvent(1, { flow_id: "old" })]);
    clock.set(100.5 * DAY);
    store.append([makeEvent(2, { flow_id: "young" })]);
    // A day after its creation the current segment is sealed, but it was written to half a day ago.
    clock.set(101 * DAY + 1);
    store.append([makeEvent(3, { flow_id: "new" })]);
    assert.equal(store.stats().segments, 2);
    assert.equal(store.stats().evicted.segments, 0);
    clock.set(101.5 * DAY + 1);
    store.append([makeEvent(4, { flow_id: "newer" })]);
    const stats = store.stats();
    assert.deepEqual(stats.evicted, {
      segments: 1,
      records: 2,
      events: 2,
      bytes: stats.evicted.bytes,
    });
    assert.ok(stats.evicted.bytes > 48);
    assert.deepEqual(store.listFlows().map((f) => f.flow_id).sort(), ["new", "newer"]);
    const [notice] = store.query({ event: "log.evicted" }).events;
    assert.equal(notice?.ts_ms, 101.5 * DAY + 1);
    assert.deepEqual(notice?.fields, {
      segments: 1,
      records: 2,
      events: 2,
      bytes: stats.evicted.bytes,
    });
    store.close();
  });
});

Deno.test("SegmentStore.open() applies retention by age", async () => {
  await withTempDir((dir) => {
    const clock = manualClock(100 * DAY);
    const options = { maxAgeMs: DAY, clock: clock.now, segmentBytes: 1 };
    // segmentBytes 1: every append after the first seals the segment before it.
    const store = SegmentStore.open(dir, options);
    store.append([makeEvent(1, { flow_id: "a" })]);
    clock.set(100 * DAY + 10);
    store.append([makeEvent(2, { flow_id: "b" })]);
    clock.set(100.5 * DAY);
    store.append([makeEvent(3, { flow_id: "c" })]);
    store.close();
    assert.equal(segmentFiles(dir).length, 3);

    clock.set(101.2 * DAY);
    const reopened = SegmentStore.open(dir, options);
    // Segment 1 was sealed when segment 2 was created, more than a day ago; segment 2 was not.
    assert.deepEqual(reopened.stats().evicted, {
      segments: 1,
      records: 1,
      events: 1,
      bytes: reopened.stats().evicted.bytes,
    });
    assert.deepEqual(reopened.listFlows().map((f) => f.flow_id).sort(), ["b", "c"]);
    assert.equal(reopened.query({ event: "log.evicted" }).events.length, 1);
    reopened.close();
  });
});

Deno.test("lockStoreDir() keeps writers out until released; lockHeld opens under the caller's lock", async () => {
  await withTempDir((dir) => {
    const lock = lockStoreDir(dir);
    assert.match(lock.holder, new RegExp(`^pid ${Deno.pid}, writer [0-9a-f]{16}, opened `));
    // The directory is locked: a writer that takes the lock itself is refused...
    assert.throws(() => SegmentStore.open(dir), StoreLockedError);
    assert.throws(() => lockStoreDir(dir), StoreLockedError);
    // ...one told that its caller holds it writes.
    const store = SegmentStore.open(dir, { lockHeld: true });
    store.append([makeEvent(1, {}, { event: "under_lock" })]);
    store.close();
    assert.throws(() => SegmentStore.open(dir), StoreLockedError);
    lock.release();
    lock.release();
    const after = SegmentStore.open(dir);
    assert.equal(after.stats().events, 1);
    after.close();
  });
});

Deno.test("SegmentStore.open() with appendToLast: false leaves the newest segment as it is and begins a new one", async () => {
  await withTempDir((dir) => {
    const first = SegmentStore.open(dir);
    first.append([makeEvent(1, {}, { event: "one" })]);
    first.close();
    const [last] = segmentFiles(dir);
    const torn = new Uint8Array([0xc1, 0xf7, 0x0b, 0x9a, 1, 2]); // a record cut after its magic
    Deno.writeFileSync(`${dir}/${last}`, torn, { append: true });
    const sizeBefore = Deno.statSync(`${dir}/${last}`).size;
    const second = SegmentStore.open(dir, { appendToLast: false });
    second.append([makeEvent(2, {}, { event: "two" })]);
    // The old segment is neither cut nor appended to: a writer of this process may still write it.
    assert.equal(Deno.statSync(`${dir}/${last}`).size, sizeBefore);
    assert.equal(segmentFiles(dir).length, 2);
    assert.deepEqual(allEvents(second).map((e) => e.event), ["one", "two"]);
    second.close();
    // The default appends to the newest segment, which ends intact.
    const third = SegmentStore.open(dir);
    third.append([makeEvent(3, {}, { event: "three" })]);
    assert.equal(segmentFiles(dir).length, 2);
    assert.deepEqual(allEvents(third).map((e) => e.event), ["one", "two", "three"]);
    third.close();
  });
});

Deno.test("SegmentStore.open() refuses a second writer with a StoreLockedError", async () => {
  await withTempDir((dir) => {
    const first = SegmentStore.open(dir);
    assert.throws(() => SegmentStore.open(dir), (error: unknown) => {
      assert.ok(error instanceof StoreLockedError);
      assert.equal(error.dir, dir);
      assert.equal(error.pid, Deno.pid);
      assert.match(
        error.message,
        new RegExp(
          `is locked by process ${Deno.pid} \\(this process; writer [0-9a-f]{16}, opened `,
        ),
      );
      return true;
    });
    const reader = SegmentStore.open(dir, { readOnly: true });
    reader.close();
    first.close();
    const second = SegmentStore.open(dir);
    second.close();
  });
});

Deno.test("SegmentStore.refresh() picks up what a live writer appended", async () => {
  await withTempDir((dir) => {
    const reader = SegmentStore.open(dir, { readOnly: true });
    const writer = SegmentStore.open(dir, {
      segmentBytes: 1024,
      maxBytes: 3072,
      maxAgeMs: Infinity,
    });
    assert.equal(reader.stats().events, 0);
    writer.append(flowEvents("f", 1, 3));
    reader.refresh();
    assert.deepEqual(reader.getFlowLog("f").events.map((e) => e.seq), [1, 2, 3]);
    for (let b = 1; b < 30; b++) writer.append(flowEvents("f", b * 3 + 1, b * 3 + 3));
    reader.refresh();
    const writerStats = writer.stats();
    const readerStats = reader.stats();
    assert.ok(writerStats.evicted.segments > 0);
    assert.equal(readerStats.events, writerStats.events);
    assert.equal(readerStats.segments, writerStats.segments);
    assert.deepEqual(allEvents(reader), allEvents(writer));
    assert.deepEqual(reader.listFlows(), writer.listFlows());
    assert.equal(readerStats.damage.regions, 0);
    assert.throws(() => reader.append(flowEvents("f", 1, 1)), StoreStateError);
    writer.close();
    reader.close();
  });
});

Deno.test("SegmentStore.refresh() waits for a record the writer has not finished", async () => {
  await withTempDir((dir) => {
    const writer = SegmentStore.open(dir);
    writer.append(flowEvents("f", 1, 2));
    writer.close();
    const path = `${dir}/${segmentFiles(dir)[0]}`;
    const complete = Deno.readFileSync(path);
    const writerAgain = SegmentStore.open(dir);
    writerAgain.append(flowEvents("f", 3, 4));
    writerAgain.close();
    const full = Deno.readFileSync(path);
    // Simulate a write in progress: only half of the new record has landed.
    const half = complete.length + Math.floor((full.length - complete.length) / 2);
    Deno.writeFileSync(path, full.subarray(0, half));
    const reader = SegmentStore.open(dir, { readOnly: true });
    assert.equal(reader.stats().events, 2);
    assert.equal(reader.stats().damage.regions, 0);
    Deno.writeFileSync(path, full);
    reader.refresh();
    assert.deepEqual(reader.getFlowLog("f").events.map((e) => e.seq), [1, 2, 3, 4]);
    assert.equal(reader.stats().damage.regions, 0);
    reader.close();
  });
});

Deno.test("SegmentStore.open() in readOnly mode reads a missing directory as empty", async () => {
  await withTempDir((dir) => {
    const reader = SegmentStore.open(`${dir}/not-yet`, { readOnly: true });
    assert.equal(reader.stats().events, 0);
    const writer = SegmentStore.open(`${dir}/not-yet`);
    writer.append(flowEvents("f", 1, 1));
    reader.refresh();
    assert.equal(reader.stats().events, 1);
    writer.close();
    reader.close();
  });
});

/**
 * A file system whose next segment write, once `failNextWrite()` was called,
 * writes half its bytes and fails with ENOSPC; `truncate` may fail the undo.
 */
function halfWriteFs(truncate?: (path: string) => void) {
  let fail = false;
  const { fs } = recordingFs({
    write(path, data) {
      if (fail && path.endsWith(".flog")) {
        fail = false;
        return Math.floor(data.length / 2);
      }
    },
    ...(truncate === undefined ? {} : { truncate }),
  });
  return { fs, failNextWrite: () => (fail = true) };
}

// A write cut short: undone by truncation (ENOSPC), or not undoable (the
// truncation fails too), when the store leaves the torn bytes behind and
// moves to a new segment.
for (
  const { name, truncate, message, segments, regions } of [
    {
      name: "throws a StoreWriteError on ENOSPC and stays usable",
      truncate: undefined,
      message: /Could not write 1 records to .*: No space left on device/,
      segments: 1,
      regions: 0,
    },
    {
      name: "moves to a new segment when a failed write cannot be undone",
      truncate: (path: string) => {
        if (path.endsWith(".flog")) throw new Error("Input/output error");
      },
      message: /Could not write 1 records to /,
      segments: 2,
      regions: 1,
    },
  ]
) {
  Deno.test(`SegmentStore.append() ${name}`, async () => {
    await withTempDir((dir) => {
      const { fs, failNextWrite } = halfWriteFs(truncate);
      const store = SegmentStore.open(dir, { fs });
      store.append(flowEvents("f", 1, 3));
      failNextWrite();
      assert.throws(() => store.append(flowEvents("f", 4, 6)), (error: unknown) => {
        assert.ok(error instanceof StoreWriteError);
        assert.match(error.message, message);
        assert.ok(error.cause instanceof Error);
        return true;
      });
      store.append(flowEvents("f", 7, 9));
      assert.equal(segmentFiles(dir).length, segments);
      assert.deepEqual(store.getFlowLog("f").events.map((e) => e.seq), [1, 2, 3, 7, 8, 9]);
      store.close();
      const reopened = SegmentStore.open(dir);
      assert.deepEqual(reopened.getFlowLog("f").events.map((e) => e.seq), [1, 2, 3, 7, 8, 9]);
      assert.equal(reopened.stats().damage.regions, regions);
      reopened.close();
    });
  });
}

Deno.test("SegmentStore.append() throws a StoreWriteError for events it cannot encode", async () => {
  await withTempDir((dir) => {
    const store = SegmentStore.open(dir);
    assert.throws(
      () => store.append([makeEvent(1, { flow_id: "f" }), makeEvent(2, { bad: Symbol("s") })]),
      (error: unknown) =>
        error instanceof StoreWriteError &&
        /Could not encode a batch of 2 events/.test(error.message),
    );
    assert.equal(store.stats().events, 0);
    store.close();
  });
});

Deno.test("SegmentStore.sync() flushes written segments and the directory", async () => {
  await withTempDir((dir) => {
    const { fs, log } = recordingFs();
    const store = SegmentStore.open(dir, { fs, segmentBytes: 200 });
    store.append(flowEvents("f", 1, 5));
    store.append(flowEvents("f", 6, 10));
    store.sync();
    assert.equal(new Set(log.syncs).size, 2);
    assert.deepEqual(log.dirSyncs, [dir]);
    store.sync();
    assert.equal(log.syncs.length, 2);
    assert.equal(log.dirSyncs.length, 1);
    store.close();
  });
});

Deno.test("SegmentStore.close() is idempotent and later calls throw a StoreStateError", async () => {
  await withTempDir((dir) => {
    const store = SegmentStore.open(dir);
    store.append(flowEvents("f", 1, 1));
    store.getFlowLog("f");
    store.close();
    store.close();
    assert.throws(() => store.append(flowEvents("f", 2, 2)), StoreStateError);
    assert.throws(() => store.query({}), /is closed: open it again/);
    {
      using disposable = SegmentStore.open(dir);
      assert.equal(disposable.stats().events, 1);
    }
    SegmentStore.open(dir).close();
  });
});

// Its sizes come checked by resolveStoreOptions(): tests/front/options_test.ts.
Deno.test("SegmentStore.open() refuses a clock that is not a function", async () => {
  await withTempDir((dir) => {
    assert.throws(
      () => SegmentStore.open(dir, { clock: 5 as unknown as () => number }),
      TypeError,
    );
    // Nothing was left open or locked by the failed attempts.
    SegmentStore.open(dir).close();
  });
});

Deno.test("SegmentStore.open() creates a missing directory", async () => {
  await withTempDir((dir) => {
    const store = SegmentStore.open(`${dir}/a/b`);
    store.append(flowEvents("f", 1, 1));
    store.close();
    assert.deepEqual(segmentFiles(`${dir}/a/b`), ["seg-0000000000000001.flog"]);
  });
});

Deno.test("SegmentStore.stats() reports sizes and the time range", async () => {
  await withTempDir((dir) => {
    const store = SegmentStore.open(dir, { maxAgeMs: Infinity });
    store.append([
      makeEvent(5, { flow_id: "a" }),
      makeEvent(3, {}),
      makeEvent(9, { flow_id: "b" }),
    ]);
    const stats = store.stats();
    assert.equal(stats.segments, 1);
    assert.equal(stats.records, 3);
    assert.equal(stats.events, 3);
    assert.equal(stats.first_ts_ms, 3);
    assert.equal(stats.last_ts_ms, 9);
    assert.equal(stats.bytes, Deno.statSync(`${dir}/${segmentFiles(dir)[0]}`).size);
    store.close();
  });
});
