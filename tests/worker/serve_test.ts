import assert from "node:assert/strict";
import {
  serveWorker,
  type ServeWorkerOptions,
  type StoreOpenOptions,
} from "../../src/worker/serve.ts";
import { createControlBuffer } from "../../src/wire/ring.ts";
import { StoreLockedError } from "../../src/store/errors.ts";
import type { WorkerInit } from "../../src/worker/api.ts";
import { MemoryStore } from "../support/memory_store.ts";
import { messageBatch } from "../support/message_batch.ts";

// The platform's pieces, none of which these tests expect to be reached.
const options: ServeWorkerOptions = {
  writeConsole: () => assert.fail("no console output was asked for"),
  openUplinkFiles: () => assert.fail("no uplink was asked for"),
};

function messageInit(extra: Partial<WorkerInit> = {}): WorkerInit {
  return {
    dir: "store-dir",
    store: { segmentBytes: 1 << 20 },
    control: createControlBuffer(false),
    rings: [],
    shared: false,
    ...extra,
  };
}

Deno.test("serveWorker() serves in-process a store opened by the opener its entry point gives", async () => {
  const store = new MemoryStore();
  const opened: { dir: string; options: StoreOpenOptions }[] = [];
  const api = serveWorker(messageInit({ lockHeld: true }), (dir, options) => {
    opened.push({ dir, options });
    return store;
  }, options);
  assert.equal(await api.ready(), null);
  assert.equal(opened.length, 1);
  assert.equal(opened[0]!.dir, "store-dir");
  assert.equal(opened[0]!.options.segmentBytes, 1 << 20);
  assert.equal(opened[0]!.options.lockHeld, true);
  assert.equal(opened[0]!.options.appendToLast, true);
  assert.deepEqual(api.ingest("m.0", messageBatch(1, 3), 3, 0), {
    persisted: 3,
    internal: 0,
    lost: 0,
  });
  await api.flush(false);
  assert.deepEqual(store.events.map((e) => [e.producer, e.seq]), [["m.0", 1], ["m.0", 2], [
    "m.0",
    3,
  ]]);
  assert.equal(api.query({ flow_id: "f" }).events.length, 3);
  await api.close();
  assert.equal(store.closed, true);
});

Deno.test("serveWorker() reports a store its opener cannot open, and every call throws it", async () => {
  const api = serveWorker(messageInit(), () => {
    throw new Error("Permission denied");
  }, options);
  assert.match(
    (await api.ready())!,
    /^Cannot open the flightlog store in "store-dir": Permission denied; this logger drops/,
  );
  await assert.rejects(async () => await api.flush(false), /Permission denied/);
  assert.throws(() => api.query({}), /Permission denied/);
  await api.close();
});

Deno.test("serveWorker() of a restarted worker opens again while the dead worker still holds the lock", async () => {
  let tries = 0;
  const store = new MemoryStore();
  const api = serveWorker(messageInit({ restarted: true, generation: 2 }), (_dir, options) => {
    // The worker it replaces may still be writing its last segment.
    assert.equal(options.appendToLast, false);
    if (++tries < 3) throw new StoreLockedError("store-dir", "pid 1");
    return store;
  }, options);
  assert.equal(await api.ready(), null);
  assert.equal(tries, 3);
  await api.close();
});
