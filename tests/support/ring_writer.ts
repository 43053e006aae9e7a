/**
 * A producer's ring, control buffer and encoder, with a `log()` that writes
 * one event into the ring and publishes it the way the hot path does: the
 * writer side of the worker and browser-worker tests.
 *
 * @module
 */
import { Encoder } from "../../src/wire/codec.ts";
import { createControlBuffer, createRingBuffer, RingProducer } from "../../src/wire/ring.ts";

/** Options of {@linkcode ringWriter}. */
export interface RingWriterOptions {
  /** @default {4096} */
  ringBytes?: number;
  /** Shared memory (the `sab` transport) or plain buffers. @default {true} */
  shared?: boolean;
}

/** A ring with its producer; `log()` returns false when the ring was full (the event is counted as dropped). */
export function ringWriter(options: RingWriterOptions = {}) {
  const shared = options.shared ?? true;
  const control = createControlBuffer(shared);
  const ring = createRingBuffer(options.ringBytes ?? 4096, shared);
  const producer = new RingProducer(ring, control);
  const enc = new Encoder();
  let seq = 0;
  let dropped = 0;
  /** Writes an event (seq from 1; info at 1000 + seq ms unless `at` says) and publishes it. */
  const log = (
    event: string,
    fields: Record<string, unknown> = {},
    at: { ts_ms?: number; severity?: number } = {},
  ): boolean => {
    seq++;
    const len = enc.encode(seq, at.ts_ms ?? 1000 + seq, at.severity ?? 9, 0, event, fields);
    const ok = producer.write(enc.buf, len);
    if (!ok) dropped++;
    producer.publish(seq, dropped);
    return ok;
  };
  return { control, ring, producer, log };
}
