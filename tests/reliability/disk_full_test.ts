/**
 * Matrix item 3, disk full: the segment store's writes fail with ENOSPC in
 * the middle of a record while producers log through a ring. `flush()`
 * rejects with a clear error, the refused events are counted as dropped
 * (`emitted = persisted + dropped`), the first event logged after space
 * returns is stored by the very next drain, and a restart reads no torn
 * record. (The store's own ENOSPC cases: tests/store/segment_store_test.ts.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { Consumer } from "../../src/worker/consumer.ts";
import { createControlBuffer, createRingBuffer, RingProducer } from "../../src/wire/ring.ts";
import { Encoder } from "../../src/wire/codec.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";
import { recordingFs } from "../store/_helpers.ts";
import { withTempDir } from "../support/temp_dir.ts";

for (const truncateFails of [false, true]) {
  Deno.test(`Consumer.flush() on a full disk${truncateFails ? " that cannot even truncate" : ""}: rejects, counts, resumes, no torn record after restart`, async () => {
    await withTempDir((dir) => {
      let full = false;
      const { fs } = recordingFs({
        // ENOSPC after half of the bytes: a record is cut in the middle.
        write: (path, data) => full && path.endsWith(".flog") ? data.length >> 1 : undefined,
        truncate: () => {
          if (full && truncateFails) throw new Error("No space left on device (os error 28)");
        },
      });
      const control = createControlBuffer(true);
      const ring = createRingBuffer(1 << 16, true);
      const producer = new RingProducer(ring, control);
      const consumer = new Consumer(SegmentStore.open(dir, { fs }), control);
      consumer.addRing("p.0", ring);
      const enc = new Encoder();
      let seq = 0;
      const log = (n: number) => {
        for (let i = 0; i < n; i++) {
          const len = enc.encode(++seq, 1000 + seq, 9, 0, "tick", {
            n: seq,
            pad: "y".repeat(seq % 70),
          });
          assert.ok(producer.write(enc.buf, len));
        }
        producer.publish(seq, 0);
        producer.wake();
      };
      log(20);
      consumer.flush(false);
      full = true;
      log(15);
      consumer.drain();
      log(15);
      assert.throws(
        () => consumer.flush(false),
        /Store write failed, events were dropped: Could not (write \d+ records to|create segment) .*No space left on device/,
      );
      let c = producer.counters();
      assert.equal(c.lost, 30);
      assert.equal(c.emitted, c.persisted + c.dropped + c.lost);
      full = false;
      log(10); // space is back: the next drain stores them
      consumer.drain();
      c = producer.counters();
      assert.equal(c.persisted, 30);
      consumer.flush(false); // the failure was reported once
      consumer.close();
      const reopened = SegmentStore.open(dir);
      try {
        const seqs = reopened.query({ limit: 1000 }).events.map((e) => e.seq);
        const expected = [
          ...Array.from({ length: 20 }, (_, i) => i + 1),
          ...Array.from({ length: 10 }, (_, i) => i + 51),
        ];
        assert.deepEqual(seqs, expected);
        for (const e of reopened.query({ limit: 1000 }).events) assert.equal(e.fields.n, e.seq);
      } finally {
        reopened.close();
      }
    });
  });
}
