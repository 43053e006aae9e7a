/**
 * What the hung-worker watchdog costs. Group `"consumer drain"`: a
 * consumer's drain of 1,000 records with its retirement check
 * (`Consumer.retired()`, one atomic load per drain and per batch; docs/internals.md
 * "Worker restart") against the same consumer without it (the baseline).
 * Group `"watchdog"`: one `Watchdog.poll()` of the logger's thread, taken
 * every `hungAfterMs / 4` (500 ms by default), with one and with four rings.
 * The log call itself is untouched (no code of `Core.write`, the encoder or
 * the ring producer changed).
 *
 * @module
 */
import { Consumer, type Store } from "../src/worker/consumer.ts";
import {
  createControlBuffer,
  createRingBuffer,
  GENERATION,
  RingProducer,
} from "../src/wire/ring.ts";
import { Encoder } from "../src/wire/codec.ts";
import { ringSample, Watchdog } from "../src/transport/watchdog.ts";
import type { LogEvent } from "../src/event.ts";

const RECORDS = 1000;

/** A store that keeps nothing: the bench measures the consumer. */
class NullStore implements Store {
  events = 0;
  append(events: LogEvent[]): void {
    this.events += events.length;
  }
  sync(): void {}
  query(): never {
    throw new Error("not in this bench");
  }
  getFlowLog(): never {
    throw new Error("not in this bench");
  }
  listFlowPage(): never {
    throw new Error("not in this bench");
  }
  nodeStats(): never {
    throw new Error("not in this bench");
  }
  stats(): Record<string, unknown> {
    return {};
  }
  close(): void {}
}

function drainBench(name: string, generation: number, baseline: boolean): void {
  const control = createControlBuffer(true);
  Atomics.store(new Int32Array(control), GENERATION, generation);
  const ring = createRingBuffer(1 << 20, true);
  const consumer = new Consumer(new NullStore(), control, generation);
  consumer.addRing("p.0", ring);
  const producer = new RingProducer(ring, control);
  const enc = new Encoder();
  let seq = 0;
  Deno.bench({
    group: "consumer drain",
    name,
    baseline,
    fn(b) {
      for (let i = 0; i < RECORDS; i++) {
        const len = enc.encode(++seq, 1, 9, 0, "step_end", { flow_id: "f-1", n: i });
        producer.write(enc.buf, len);
      }
      producer.wake();
      b.start();
      consumer.drain();
      b.end();
    },
  });
}

drainBench("drain 1,000 records, never replaced (generation 0: no check)", 0, true);
drainBench("drain 1,000 records, retirement checked (generation 1)", 1, false);

for (const rings of [1, 4]) {
  const control = createControlBuffer(true);
  const buffers = Array.from({ length: rings }, () => createRingBuffer(4096, true));
  const dog = new Watchdog(() => ringSample(control, buffers), () => {}, { hungAfterMs: 2000 });
  dog.watch();
  Deno.bench({
    group: "watchdog",
    name: `Watchdog.poll() with ${rings} ring${rings === 1 ? "" : "s"}`,
    baseline: rings === 1,
    fn() {
      dog.poll();
    },
  });
}
