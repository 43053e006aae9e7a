/**
 * The `"attached"` transport: an application Worker logs into a ring of its
 * own that the worker of another logger (the one that made the
 * {@linkcode ProducerHandle}) drains into that logger's store.
 *
 * @module
 */
import {
  ConsumerState,
  DURABLE,
  FLUSH_ACK,
  isRegistered,
  RingProducer,
  STATE,
  waitRegistered,
} from "../wire/ring.ts";
import type { FlowLog, QueryPage } from "../query/types.ts";
import type { FlowPage } from "../query/flow_list.ts";
import type { NodeStatsRow } from "../query/node_stats.ts";
import type { Platform } from "../platform/types.ts";
import type { ProducerHandle } from "./handle.ts";
import { consumerState, LoggerClosedError, requestFlush, type Transport } from "./types.ts";

/** A producer on another logger's store; see the module doc. */
export class AttachedTransport implements Transport {
  readonly mode = "attached" as const;
  readonly producer: RingProducer;
  readonly producerId: string;
  readonly canBlock: boolean;
  readonly #control: Int32Array;
  #closed = false;

  constructor(handle: ProducerHandle, platform: Platform) {
    this.producerId = handle.producer;
    this.producer = new RingProducer(handle.ring, handle.control);
    this.#control = new Int32Array(handle.control);
    this.canBlock = platform.canWait();
  }

  // The handle is made before the worker has registered its ring (an RPC):
  // until then a flush would be acknowledged without this ring being drained.
  async #registered(): Promise<void> {
    while (!isRegistered(this.producer.buffer)) {
      if (Atomics.load(this.#control, STATE) >= ConsumerState.failed) {
        throw new LoggerClosedError("The flightlog worker is not running");
      }
      await waitRegistered(this.producer.buffer, 100);
    }
  }

  async flush(durable: boolean): Promise<void> {
    if (this.#closed) throw new LoggerClosedError("The logger is closed");
    await this.#registered();
    this.producer.wake(); // publishes HEAD
    const c = this.#control;
    if (durable) Atomics.store(c, DURABLE, 1);
    const req = requestFlush(c);
    for (;;) {
      const ack = Atomics.load(c, FLUSH_ACK);
      if (ack - req >= 0) return;
      if (Atomics.load(c, STATE) >= ConsumerState.failed) {
        throw new LoggerClosedError("The flightlog worker is not running");
      }
      const r = Atomics.waitAsync(c, FLUSH_ACK, ack, 1000);
      if (r.async) {
        // A pending waitAsync does not keep the event loop alive; a timer does.
        const keepAlive = setTimeout(() => {}, 1000);
        await r.value;
        clearTimeout(keepAlive);
      }
    }
  }

  query(): Promise<QueryPage> {
    return Promise.reject(
      new TypeError(
        "query() is answered by the logger that made the handle, not by an attached one",
      ),
    );
  }

  getFlowLog(): Promise<FlowLog> {
    return Promise.reject(
      new TypeError(
        "getFlowLog() is answered by the logger that made the handle, not by an attached one",
      ),
    );
  }

  listFlows(): Promise<FlowPage> {
    return Promise.reject(
      new TypeError(
        "listFlows() is answered by the logger that made the handle, not by an attached one",
      ),
    );
  }

  nodeStats(): Promise<NodeStatsRow[]> {
    return Promise.reject(
      new TypeError(
        "nodeStats() is answered by the logger that made the handle, not by an attached one",
      ),
    );
  }

  metrics(): Promise<string | null> {
    return Promise.reject(
      new TypeError(
        "metrics() is answered by the logger that made the handle, not by an attached one",
      ),
    );
  }

  producerHandle(): ProducerHandle {
    throw new TypeError(
      "producerHandle() is available on the logger that owns the store, not on an attached one",
    );
  }

  state(): "starting" | "running" | "failed" | "closed" {
    return consumerState(this.#control);
  }

  error(): string | null {
    return null;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush(false).catch(() => {});
    this.#closed = true;
    this.producer.close();
  }
}
