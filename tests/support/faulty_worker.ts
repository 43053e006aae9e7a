/**
 * flightlog's Deno worker with fault injection (`faults.ts`): the same
 * serve loop and Deno platform as `workers/flightlog_worker.ts`, its store
 * writes trappable. Started through the `workerUrl` option by
 * `faulty_logger.ts`.
 *
 * @module
 */
import { serveWorker } from "../../src/worker/serve.ts";
import {
  denoServeOptions,
  exposeWorker,
  openSegmentStore,
} from "../../src/platform/deno_worker.ts";
import { withFaults, WriteTrap } from "./faults.ts";

const trap = new WriteTrap();
exposeWorker((init, notify) =>
  withFaults(
    serveWorker(init, (dir, options) => trap.wrap(openSegmentStore(dir, options)), {
      ...denoServeOptions,
      notify,
    }),
    trap,
  )
);
