/**
 * Builds the worker's RPC object from its start-up data. Runtime-neutral:
 * the worker entry point supplies the store opener.
 *
 * @module
 */
import { Consumer } from "./worker_core.ts";
import type { WorkerApi, WorkerInit } from "./worker_api.ts";
import { openStore } from "./_runtime_deno.ts";
import { StoreLockedError } from "./store/errors.ts";
import { RESUME } from "./ring.ts";
import type { Store } from "./worker_core.ts";

/**
 * Opens the store. A worker that replaces a dead one may find the store
 * still locked by it: the dead thread's files are closed asynchronously after
 * it ends. Then it retries for up to `RESTART_LOCK_WAIT_MS`.
 */
function openStoreAfterRestart(init: WorkerInit): Store {
  const deadline = performance.now() + RESTART_LOCK_WAIT_MS;
  for (;;) {
    try {
      return openStore(init.dir, init.store);
    } catch (err) {
      if (init.restarted !== true || !(err instanceof StoreLockedError)) throw err;
      if (performance.now() >= deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

const RESTART_LOCK_WAIT_MS = 5000;

async function waitForResume(control: SharedArrayBuffer | ArrayBuffer): Promise<void> {
  const c = new Int32Array(control);
  while (Atomics.load(c, RESUME) !== 1) {
    const r = Atomics.waitAsync(c, RESUME, 0, 1000);
    if (r.async) await r.value;
  }
}

/**
 * Opens the store and returns the worker API. A store that cannot be opened
 * does not crash the worker: `ready()` reports the error and every other call
 * throws it.
 */
export function serveWorker(init: WorkerInit): WorkerApi {
  let consumer: Consumer | null = null;
  let failure: Error | null = null;
  try {
    consumer = new Consumer(openStoreAfterRestart(init), init.control);
    for (const r of init.rings) {
      consumer.addRing(
        r.producer,
        r.buffer,
        init.restarted === true ? { bindings: r.bindings } : undefined,
      );
    }
    if (init.shared) {
      const c = consumer;
      // A restarted consumer drains only once the front end has counted what
      // the dead one took (src/ring.ts "Worker restart").
      const resumed = init.restarted === true ? waitForResume(init.control) : Promise.resolve();
      resumed.then(() => c.run()).catch((err) => {
        failure = err instanceof Error ? err : new Error(String(err));
        // A drain loop that failed drains no more: end the worker so the
        // front end notices and starts a new one (src/ring.ts "Worker restart").
        setTimeout(() => {
          throw failure;
        }, 0);
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
    ready: () => failure === null ? null : failure.message,
    addRing: (producer, buffer) => live().addRing(producer, buffer),
    ingest: (producer, bytes, emitted, dropped) => live().ingest(producer, bytes, emitted, dropped),
    flush: (durable) => live().flush(durable),
    query: (filter) => live().query(filter),
    getFlowLog: (flowId) => live().getFlowLog(flowId),
    stats: () => live().stats(),
    close: () => consumer?.close(),
    crash: (message) => {
      // Fault injection for the worker-crash tests: an uncaught exception
      // outside any RPC, as a bug in the worker would raise.
      setTimeout(() => {
        throw new Error(message);
      }, 0);
    },
  };
}
