/**
 * The store's file system on `node:fs` (Node.js's) against Deno's: the same
 * records give the same bytes on disk, each reads what the other wrote, and
 * each one's lock keeps the other out. Run under Deno, whose `node:fs` is
 * what these calls reach; tests/platform/node_test.ts runs them on Node.js.
 */
import assert from "node:assert/strict";
import { denoFs } from "../../src/store/_fs_deno.ts";
import { nodeFs } from "../../src/store/_fs_node.ts";
import { StoreLockedError } from "../../src/store/errors.ts";
import type { StoreFs } from "../../src/store/fs.ts";
import { lockStoreDir } from "../../src/store/lock.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";
import type { LogEvent } from "../../src/event.ts";

function events(from: number, count: number): LogEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    ts_ms: 1_000 + from + i,
    level: "info",
    severity: 9,
    event: "step",
    producer: "p.1",
    seq: from + i + 1,
    fields: { flow_id: "f-1", i: from + i, text: "é ✓ ".repeat(i % 7) },
  }));
}

/** Writes two batches, closes, reopens and writes a third (into a segment of its own). */
function writeStore(dir: string, fs: StoreFs): void {
  const options = { fs, clock: () => 5_000, segmentBytes: 4096 };
  const store = SegmentStore.open(dir, options);
  store.append(events(0, 50));
  store.append(events(50, 50));
  store.close();
  const again = SegmentStore.open(dir, options);
  again.append(events(100, 10));
  again.close();
}

/** The store's files, lock file aside (it names its writer and time). */
function files(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const name of denoFs.list(dir).sort()) {
    if (name !== "lock") out.set(name, Deno.readFileSync(`${dir}/${name}`));
  }
  return out;
}

Deno.test("nodeFs writes the same segment bytes as denoFs, and each reads the other's", async () => {
  const a = await Deno.makeTempDir();
  const b = await Deno.makeTempDir();
  // The writer id is the one random part of a segment: the same for both stores here.
  const random = crypto.getRandomValues;
  crypto.getRandomValues = <T extends ArrayBufferView | null>(array: T): T => {
    new Uint8Array(array!.buffer, array!.byteOffset, array!.byteLength).fill(7);
    return array;
  };
  try {
    writeStore(a, nodeFs);
    writeStore(b, denoFs);
  } finally {
    crypto.getRandomValues = random;
  }
  try {
    const fromNode = files(a);
    assert.ok(fromNode.size >= 2, `${fromNode.size} segments`);
    assert.deepEqual(fromNode, files(b));
    for (const [dir, fs] of [[a, denoFs], [b, nodeFs]] as const) {
      const store = SegmentStore.open(dir, { fs, readOnly: true });
      const flow = store.getFlowLog("f-1");
      store.close();
      assert.deepEqual(
        flow.events.map((e) => e.fields.i),
        Array.from({ length: 110 }, (_, i) => i),
      );
    }
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("a lock taken through nodeFs keeps denoFs out, and the reverse", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [first, second] of [[nodeFs, denoFs], [denoFs, nodeFs]] as const) {
      const lock = lockStoreDir(dir, { fs: first, pid: 4242 });
      assert.throws(() => lockStoreDir(dir, { fs: second }), (err) => {
        assert.ok(err instanceof StoreLockedError);
        assert.match(err.message, /locked by process 4242 /);
        return true;
      });
      lock.release();
      lockStoreDir(dir, { fs: second }).release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nodeFs reports a missing file as not found", () => {
  let error: unknown;
  try {
    nodeFs.readFile("/nonexistent/flightlog");
  } catch (err) {
    error = err;
  }
  assert.ok(nodeFs.isNotFound(error));
  assert.ok(!nodeFs.isNotFound(new Error("other")));
});
