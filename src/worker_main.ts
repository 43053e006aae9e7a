/**
 * Builds the worker's RPC object from its start-up data. Runtime-neutral:
 * the worker entry point supplies the store opener.
 *
 * @module
 */
import { Consumer } from "./worker_core.ts";
import type { WorkerApi, WorkerInit } from "./worker_api.ts";
import { openStore, writeConsole } from "./_runtime_deno.ts";
import { installObservers, type Observers, scrapeCounters } from "./observers.ts";

/**
 * Opens the store and returns the worker API. A store that cannot be opened
 * does not crash the worker: `ready()` reports the error and every other call
 * throws it.
 */
export function serveWorker(init: WorkerInit): WorkerApi {
  let consumer: Consumer | null = null;
  let failure: Error | null = null;
  let observers: Observers | null = null;
  try {
    consumer = new Consumer(openStore(init.dir, init.store), init.control);
    observers = installObservers(consumer, init.observe, writeConsole);
    for (const r of init.rings) consumer.addRing(r.producer, r.buffer);
    if (init.shared) {
      consumer.run().catch((err) => {
        failure = err instanceof Error ? err : new Error(String(err));
      });
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    failure = new Error(
      `Cannot open the flightlog store in "${init.dir}": ${why}; check that it is a writable directory`,
      { cause: err },
    );
  }
  const live = (): Consumer => {
    if (failure !== null) throw failure;
    return consumer!;
  };
  return {
    // Waits for the metrics module, so its sink sees events from the start.
    ready: async () => {
      await observers?.ready;
      return failure === null ? null : failure.message;
    },
    addRing: (producer, buffer) => live().addRing(producer, buffer),
    ingest: (producer, bytes, emitted, dropped) => live().ingest(producer, bytes, emitted, dropped),
    flush: (durable) => live().flush(durable),
    query: (filter) => live().query(filter),
    getFlowLog: (flowId) => live().getFlowLog(flowId),
    stats: () => live().stats(),
    metrics: () => {
      const c = live();
      const counters = scrapeCounters(c); // ring fill as the producers left it
      c.drain();
      return observers?.metricsText(counters) ?? null;
    },
    close: () => consumer?.close(),
  };
}
