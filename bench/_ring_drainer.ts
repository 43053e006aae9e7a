/**
 * A consumer thread for `ring_bench.ts` "ring write": drains one ring with
 * the real `RingConsumer` (copy out, free, walk the records) for as long as
 * records keep coming, and naps while the ring stays empty, so it holds the
 * other core only while a benchmark writes. Private to `bench/`.
 *
 * Start-up data (`workerData`): the ring's `SharedArrayBuffer`. Posts one
 * message once it is running. The thread is `unref()`ed by its creator and
 * dies with the process.
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import { HEAD, HEADER_BYTES, RingConsumer } from "../src/wire/ring.ts";

const ring = workerData as SharedArrayBuffer;
const consumer = new RingConsumer(ring);
const i32 = new Int32Array(ring, 0, HEADER_BYTES / 4);
let records = 0;
const onRecord = (): void => {
  records++;
};

parentPort?.postMessage("ready");
for (;;) {
  if (consumer.drain(onRecord) !== 0) continue;
  // Spin a little before napping: the real worker also drains in a loop while
  // records arrive and sleeps only when idle.
  let idle = 0;
  while (!consumer.pending() && idle < 100_000) idle++;
  if (!consumer.pending()) Atomics.wait(i32, HEAD, Atomics.load(i32, HEAD), 20);
}
