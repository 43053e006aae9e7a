/**
 * Deno worker entry point: wires Deno's store, files and console into the
 * worker's serve loop and serves it to the logger's thread. All logic lives
 * in `src/worker/serve.ts`.
 *
 * @module
 */
import { serveWorker } from "../src/worker/serve.ts";
import { denoServeOptions, exposeWorker, openSegmentStore } from "../src/platform/deno_worker.ts";

exposeWorker((init, notify) =>
  serveWorker(init, openSegmentStore, { ...denoServeOptions, notify })
);
