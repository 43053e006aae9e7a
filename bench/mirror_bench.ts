/**
 * What the definitions mirror (docs/internals.md "Definitions mirror") costs the
 * consumer: a drain of an attached producer's ring also counts the user
 * records it takes (`TAKEN`), one more walk over the record headers. Group
 * `"drain"`: 1,024 event records of the usual size drained at once, from the
 * owner's ring (baseline) and from an attached producer's mirrored ring.
 * Figures: docs/performance.md "Definitions mirror". The producer's side
 * (`Core.write`) is unchanged: the mirror is written in `Core.#define`, once
 * per child per ring lap.
 *
 * @module
 */
import {
  createControlBuffer,
  createRingBuffer,
  RingConsumer,
  RingProducer,
} from "../src/wire/ring.ts";
import { Encoder } from "../src/wire/codec.ts";

const RECORDS = 1024;

function drainCase(name: string, mirrored: boolean, baseline: boolean): void {
  const buf = createRingBuffer(1 << 18, true, mirrored);
  const producer = new RingProducer(buf, createControlBuffer(true));
  const consumer = new RingConsumer(buf);
  const enc = new Encoder();
  const fields = { duration_ms: 12.5, status: "ok", step_id: "fetch", step_type: "http" };
  const len = enc.encode(1, Date.now(), 9, 0, "step_end", fields, 1);
  let records = 0;
  const onRecord = (): void => {
    records++;
  };
  Deno.bench({
    group: "drain",
    name,
    baseline,
    fn(b) {
      for (let i = 0; i < RECORDS; i++) producer.write(enc.buf, len);
      producer.wake();
      b.start();
      consumer.drain(onRecord);
      b.end();
      if (records % RECORDS !== 0) throw new Error("a record went missing");
    },
  });
}

drainCase("owner's ring, 1,024 records", false, true);
drainCase("attached (mirrored) ring, 1,024 records", true, false);
