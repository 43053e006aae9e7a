/// <reference lib="deno.worker" />
/**
 * A producer thread for tests/wire/ring_test.ts: mirrors definitions into a ring's
 * definitions mirror as fast as it can, epoch after epoch, until told to
 * stop. Each record is recognizable: every word after its length word holds
 * `epoch * 1000 + k`, so a reader can tell a torn copy from a whole one.
 */
import { RingProducer } from "../../src/wire/ring.ts";

type Start = { ring: SharedArrayBuffer; control: SharedArrayBuffer; stop: SharedArrayBuffer };

self.onmessage = (e: MessageEvent<Start>) => {
  const producer = new RingProducer(e.data.ring, e.data.control);
  const stop = new Int32Array(e.data.stop);
  const record = new Uint8Array(64);
  const words = new Uint32Array(record.buffer);
  self.postMessage("started");
  let epoch = 0;
  while (Atomics.load(stop, 0) === 0) {
    epoch++;
    for (let k = 0; k < 20; k++) {
      words.fill(epoch * 1000 + k);
      words[0] = 60; // len: the record is 64 bytes
      producer.mirror(record, 64, epoch);
    }
  }
  self.postMessage(epoch);
};
